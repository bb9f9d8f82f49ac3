/** Distribution figures of a sample, ms. */
export interface Dist {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of a sample (pooled across repetitions by the caller). */
export function dist(values: number[]): Dist {
  if (values.length === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = Float64Array.from(values).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, p50: at(50), p90: at(90), p99: at(99), max: s[s.length - 1]!, mean: sum / s.length };
}

export const median = (xs: number[]): number => dist(xs).p50;

/** Fixed decimals, or '–' for a missing figure. */
export function fmt(v: number | undefined | null, digits = 2): string {
  return v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(digits);
}

/** Signed difference, e.g. "+0.41". */
export function fmtDelta(v: number | undefined, digits = 2): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

/** A plain-text table with right-aligned columns except the first. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in Markdown, for docs/benchmarks.md. */
export function markdownTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}
