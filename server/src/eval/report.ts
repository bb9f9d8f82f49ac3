import type { EvalReport, UserResult } from './run-eval.js';

const pct = (x: number | undefined) => (x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(3));
const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

const COLUMNS = [
  'user',
  'behaviours',
  'shown',
  'cited',
  'ref',
  'pred',
  'match',
  'P',
  'R',
  'F1',
  'source F1',
  'rejected',
  'grounded',
  'tokens',
  'time',
  'status',
] as const;

function row(u: UserResult): string[] {
  const s = u.score ?? undefined;
  const rejected = s && s.rejected.total > 0 ? `${s.rejected.total} (${pct(s.rejected.share)})` : '0';
  return [
    u.userId,
    String(u.behaviours),
    u.shown.total === 0 ? '—' : pct(u.shown.included / u.shown.total),
    pct(s?.cited),
    String(s?.reference ?? '—'),
    String(s?.predicted ?? '—'),
    String(s?.matched ?? '—'),
    num(s?.precision),
    num(s?.recall),
    num(s?.f1),
    num(s?.sources.f1),
    rejected,
    pct(s?.grounded.share),
    u.tokens ? `${u.tokens.totalTokens}${u.tokens.estimated ? '~' : ''}` : '—',
    secs(u.durationMs),
    u.status + (u.errorCode ? ` (${u.errorCode})` : '') + (u.error ? `: ${u.error}` : ''),
  ];
}

/** The report as an aligned text table, one line per user, then the totals and the reject codes. */
export function formatReport(r: EvalReport): string {
  const t = r.totals;
  const rows = [
    [...COLUMNS],
    ...r.users.map(row),
    [
      'all (micro)',
      String(r.users.reduce((n, u) => n + u.behaviours, 0)),
      '',
      '',
      String(t.reference),
      String(t.predicted),
      String(t.matched),
      num(t.precision),
      num(t.recall),
      num(t.f1),
      '',
      pct(t.rejectedShare),
      pct(t.groundedShare),
      String(t.tokens),
      secs(t.durationMs),
      `${t.users - t.failed}/${t.users} evaluated`,
    ],
  ];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((x) => [...x[c]!].length)));
  const lines = rows.map((x) =>
    x
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const codes = new Map<string, number>();
  for (const u of r.users)
    for (const [code, n] of Object.entries(u.score?.rejected.byCode ?? {}))
      codes.set(code, (codes.get(code) ?? 0) + n);
  const why = [...codes].map(([code, n]) => `${code} ${n}`).join(', ');
  return [
    `model ${r.model} at ${r.baseUrl}, ${r.startedAt}`,
    ...lines,
    `mean F1 over users ${num(t.meanF1)}; rejected lines by code: ${why || 'none'}`,
    'shown: behaviours the model was shown (the rest were cut to fit the prompt budget); cited: behaviours its events cite.',
    'The reference is the built-in rules over the whole history: a run shown less of it cannot reach recall 1.',
  ].join('\n');
}
