/** A hand-written SVG of how the figures grow with the number of concurrent runs: small panels of lines. */

export interface Series {
  name: string;
  color: string;
  /** One value per x label; NaN leaves a gap. */
  values: number[];
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

const W = 380;
const H = 300;
const M = { left: 56, right: 12, top: 34, bottom: 92 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step near range/5: 1, 2 or 5 times a power of ten. */
function niceStep(range: number): number {
  const raw = range / 5 || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function panel(p: Panel, xLabels: string[], ox: number): string {
  const all = p.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const lo = Math.min(0, ...all);
  const hiRaw = Math.max(...all, lo + 1e-9);
  const step = niceStep(hiRaw - lo);
  const hi = Math.ceil(hiRaw / step) * step;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (i: number) => ox + M.left + (xLabels.length === 1 ? pw / 2 : (i * pw) / (xLabels.length - 1));
  const y = (v: number) => M.top + ph - ((v - lo) / (hi - lo || 1)) * ph;
  const out: string[] = [];
  out.push(`<text x="${ox + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  for (let v = lo; v <= hi + step / 2; v += step) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${ox + M.left}" x2="${ox + W - M.right}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    const label = Number(v.toPrecision(6)).toString();
    out.push(
      `<text x="${ox + M.left - 6}" y="${yy}" dy="4" text-anchor="end" font-size="11">${label}</text>`,
    );
  }
  out.push(
    `<text transform="translate(${ox + 14},${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(p.yLabel)}</text>`,
  );
  xLabels.forEach((l, i) => {
    out.push(`<text x="${x(i)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${esc(l)}</text>`);
  });
  out.push(
    `<text x="${ox + M.left + pw / 2}" y="${M.top + ph + 32}" text-anchor="middle" font-size="11">concurrent runs</text>`,
  );
  p.series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : null));
    const segs: string[][] = [[]];
    for (const pt of pts) {
      if (pt) segs[segs.length - 1]!.push(pt);
      else segs.push([]);
    }
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    for (const seg of segs.filter((g) => g.length > 0)) {
      out.push(
        `<polyline points="${seg.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
      );
      for (const pt of seg) {
        const [cx, cy] = pt.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`);
      }
    }
    const lx = ox + M.left + (k % 2) * (pw / 2);
    const ly = M.top + ph + 50 + Math.floor(k / 2) * 15;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    out.push(`<text x="${lx + 22}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Panels side by side over the same x labels (the concurrency levels). */
export function renderChart(title: string, xLabels: string[], panels: Panel[]): string {
  const width = W * panels.length;
  const height = H + 24;
  const body = panels
    .map((p, i) => `<g transform="translate(0,24)">${panel(p, xLabels, i * W)}</g>`)
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="13">${esc(title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
