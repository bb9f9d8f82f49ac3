import { z } from 'zod';
import { BEHAVIOUR_ID_RE, USER_ID_RE, profileSchema, type Behaviour, type User } from '@app/shared';

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Accepts `YYYY-MM-DD HH:mm`, `…HH:mm:ss` and the `T` forms; returns `YYYY-MM-DD HH:mm` or why not. */
export function normaliseTs(raw: string): { ts: string } | { error: string } {
  const m = TS_RE.exec(raw.trim());
  if (!m) return { error: `ts "${raw}" must look like YYYY-MM-DD HH:mm` };
  const [y, mo, d, h, mi, s] = m.slice(1).map((p) => Number(p ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth) return { error: `ts "${raw}" is not a valid date` };
  if (h > 23 || mi > 59 || s > 59) return { error: `ts "${raw}" is not a valid time` };
  return { ts: `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}` };
}

const typeError =
  (field: string, expected = 'a string') =>
  (iss: { input: unknown }) =>
    iss.input === undefined ? `missing field "${field}"` : `field "${field}" must be ${expected}`;

const text = (field: string, max: number) =>
  z
    .string({ error: typeError(field) })
    .trim()
    .min(1, `field "${field}" is empty`)
    .max(max, `field "${field}" is longer than ${max} characters`);

const id = (field: string, kind: string, re: RegExp, allowed: string) =>
  text(field, 64).refine((v) => v === '' || v.length > 64 || re.test(v), {
    error: (iss) => `${kind} id "${String(iss.input)}" may only contain ${allowed}`,
  });

const optionalText = (field: string, max: number) =>
  z
    .union([z.string(), z.null()], { error: typeError(field, 'a string or null') })
    .optional()
    .transform((v) => (v == null || v.trim() === '' ? null : v.trim()))
    .refine((v) => v === null || v.length <= max, `field "${field}" is longer than ${max} characters`);

const behaviourSchema = z.object({
  id: id('id', 'behaviour', BEHAVIOUR_ID_RE, 'A-Z a-z 0-9 _ . : -'),
  userId: id('user_id', 'user', USER_ID_RE, 'A-Z a-z 0-9 _ . -'),
  ts: z.string({ error: typeError('ts') }).transform((v, ctx) => {
    const r = normaliseTs(v);
    if ('ts' in r) return r.ts;
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }),
  action: text('action', 100),
  object: text('object', 200),
  channel: text('channel', 50),
  detail: optionalText('detail', 2000),
});

const userSchema = z.object({
  id: id('id', 'user', USER_ID_RE, 'A-Z a-z 0-9 _ . -'),
  name: optionalText('name', 200),
  profile: z
    .unknown()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === null) return {};
      const r = profileSchema.safeParse(v);
      if (r.success) return r.data;
      const key = r.error.issues[0]?.path[0];
      ctx.addIssue({
        code: 'custom',
        message:
          key === undefined
            ? 'field "profile" must be an object'
            : `profile field "${String(key)}" must be a string, number, boolean or null`,
      });
      return z.NEVER;
    }),
});

export type RowResult = { user: User } | { behaviour: Behaviour } | { error: string };

/** Validates one decoded row (JSONL object or CSV record) as a user or a behaviour. */
export function validateRow(row: unknown): RowResult {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return {
      error: `expected a JSON object, got ${Array.isArray(row) ? 'an array' : row === null ? 'null' : typeof row}`,
    };
  }
  const r = row as Record<string, unknown>;
  if (r.type === 'user') {
    const parsed = userSchema.safeParse(r);
    return parsed.success ? { user: parsed.data } : { error: messages(parsed.error) };
  }
  if (r.type !== undefined && r.type !== 'behaviour' && r.type !== 'behavior') {
    return { error: `unknown type ${JSON.stringify(r.type)} (expected "user" or "behaviour")` };
  }
  const parsed = behaviourSchema.safeParse({ ...r, userId: 'user_id' in r ? r.user_id : r.userId });
  return parsed.success ? { behaviour: parsed.data } : { error: messages(parsed.error) };
}

const messages = (e: z.ZodError) => [...new Set(e.issues.map((i) => i.message))].join('; ');
