import type { z } from 'zod';

/** A message from the server that the client did not act on, and why. */
export interface InvalidMessage {
  /** `not_json`: unparsable text; `unknown_type`: a `type` this client does not know; `malformed`: a known type whose fields do not match. */
  reason: 'not_json' | 'unknown_type' | 'malformed';
  /** The message's `type`, when it had one. */
  type?: string;
  /** What was wrong, e.g. `seq: Invalid input: expected number, received undefined`. */
  detail: string;
  /** The message as received (cut to 500 characters). */
  text: string;
}

export type Parsed<T> = { ok: true; msg: T } | { ok: false; invalid: InvalidMessage };

/**
 * Parses one message against the protocol's schema instead of casting it: what does not match is
 * returned as an {@link InvalidMessage} for the caller to report.
 */
export function parseMessage<S extends z.ZodType>(
  text: string,
  schema: S,
  knownTypes: readonly string[],
): Parsed<z.infer<S>> {
  const invalid = (reason: InvalidMessage['reason'], detail: string, type?: string): Parsed<z.infer<S>> => ({
    ok: false,
    invalid: { reason, detail, text: text.slice(0, 500), ...(type === undefined ? {} : { type }) },
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return invalid('not_json', err instanceof Error ? err.message : String(err));
  }
  const type = (raw as { type?: unknown } | null)?.type;
  const typeName = typeof type === 'string' ? type : undefined;
  if (typeName === undefined || !knownTypes.includes(typeName))
    return invalid('unknown_type', `unknown message type ${JSON.stringify(type)}`, typeName);
  const r = schema.safeParse(raw);
  if (!r.success)
    return invalid(
      'malformed',
      r.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; '),
      typeName,
    );
  return { ok: true, msg: r.data };
}

/** Default report of an invalid message when nobody listens for them: the console, where the platform has one. */
export function warnInvalid(where: string, m: InvalidMessage): void {
  console.warn(`${where}: ignored a ${m.reason.replace('_', ' ')} message (${m.detail}): ${m.text}`);
}
