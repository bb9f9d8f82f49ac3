/** 75 s → "1:15", 3725 s → "1:02:05". */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

export function formatNumber(n: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** ISO timestamp → local "YYYY-MM-DD HH:mm:ss". */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A profile's values as one short line: 深圳 · 男 · 45-54 · 25-35万 … */
export function profileLine(profile: Record<string, string | number | boolean | null>): string {
  return Object.values(profile)
    .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
    .join(' · ');
}

/** "2026-01-22 08:10" + "2026-01-22 08:32" → "01-22 08:10–08:32"; across days both dates are shown. */
export function formatTimeRange(start: string, end: string): string {
  const [sd, st] = start.split(' ');
  const [ed, et] = end.split(' ');
  const short = (d: string | undefined) => (d ? d.slice(5) : '');
  if (sd === ed) return `${short(sd)} ${st ?? ''}${et && et !== st ? `–${et}` : ''}`;
  return `${short(sd)} ${st ?? ''} – ${short(ed)} ${et ?? ''}`;
}
