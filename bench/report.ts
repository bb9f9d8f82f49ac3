/** Turns phase measurements into figures, targets, tables (console and Markdown) and the chart. */
import { renderChart } from './chart.js';
import type { Mode } from './load-client.js';
import { dist, fmt, fmtDelta, markdownTable, table, type Dist } from './stats.js';

export const RATE = 50;

export type Arrival = 'steady' | 'burst';

/** Everything measured for one (mode, runs, watchers, arrival) cell, pooled over its repetitions. */
export interface Cell {
  mode: Mode;
  runs: number;
  watchers: number;
  arrival: Arrival;
  pieces: number;
  reps: number;
  latencies: number[];
  ttfp: number[];
  received: number;
  catchUp: number;
  expected: number;
  /** Pieces sent / received within the steady-state windows, and the windows' total length. */
  windowSent: number;
  windowReceived: number;
  windowS: number;
  /** CPU seconds of the relay process (bare relay or server), summed over repetitions. */
  relayCpu: number;
  modelCpu: number;
  clientCpu: number;
  wallS: number;
  peakRssMb: number;
  /** Server event-loop delay, worst repetition (ms). */
  loopP99Ms: number;
  loopMaxMs: number;
  failures: string[];
}

export const emptyCell = (
  mode: Mode,
  runs: number,
  watchers: number,
  arrival: Arrival,
  pieces: number,
): Cell => ({
  mode,
  runs,
  watchers,
  arrival,
  pieces,
  reps: 0,
  latencies: [],
  ttfp: [],
  received: 0,
  catchUp: 0,
  expected: 0,
  windowSent: 0,
  windowReceived: 0,
  windowS: 0,
  relayCpu: 0,
  modelCpu: 0,
  clientCpu: 0,
  wallS: 0,
  peakRssMb: 0,
  loopP99Ms: NaN,
  loopMaxMs: NaN,
  failures: [],
});
/** Max that treats NaN as "nothing yet". */
export const maxOf = (a: number, b: number): number => (Number.isNaN(a) ? b : Math.max(a, b));

export interface Row {
  mode: Mode;
  runs: number;
  watchers: number;
  arrival: Arrival;
  reps: number;
  lat: Dist;
  ttfp: Dist;
  received: number;
  /** Delivered as catch-up to a watcher that attached after they were sent (not in `lat`). */
  catchUp: number;
  expected: number;
  allArrived: boolean;
  /** Pieces/s received in the steady-state window (all watchers). */
  deliveredPerS: number;
  /** Pieces/s the model sent in that window (counted once per watcher, as delivered is). */
  sentPerS: number;
  /** What the load asks for: runs × watchers × 50/s. */
  offeredPerS: number;
  cpuPer10k: number | null;
  peakRssMb: number | null;
  /** Server event-loop delay p99 / max, ms (worst repetition). */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Cores the load client and the model used during the phase (saturation check). */
  clientCores: number;
  modelCores: number;
}

export interface IdleResult {
  skipped?: string;
  sockets?: number;
  failed?: number;
  rssBeforeMb?: number;
  rssMb?: number;
  heapBeforeMb?: number;
  heapMb?: number;
  perSocketKb?: number;
  clients?: number;
}

export interface ReplayResult {
  frames: number;
  pieces: number;
  createMs: number;
  ws: number[];
  sse: number[];
  failures: string[];
}

export interface Target {
  name: string;
  figure: string;
  limit: string;
  pass: boolean | null;
}

export function summarize(c: Cell): Row {
  const relay = c.mode !== 'direct';
  return {
    mode: c.mode,
    runs: c.runs,
    watchers: c.watchers,
    arrival: c.arrival,
    reps: c.reps,
    lat: dist(c.latencies),
    ttfp: dist(c.ttfp),
    received: c.received,
    catchUp: c.catchUp,
    expected: c.expected,
    allArrived: c.received === c.expected,
    deliveredPerS: c.windowS > 0 ? c.windowReceived / c.windowS : NaN,
    sentPerS: c.windowS > 0 ? c.windowSent / c.windowS : NaN,
    offeredPerS: c.runs * c.watchers * RATE,
    cpuPer10k: relay && c.received > 0 ? (c.relayCpu / c.received) * 10_000 : null,
    peakRssMb: relay ? c.peakRssMb : null,
    loopP99Ms: c.loopP99Ms,
    loopMaxMs: c.loopMaxMs,
    clientCores: c.wallS > 0 ? c.clientCpu / c.wallS : NaN,
    modelCores: c.wallS > 0 ? c.modelCpu / c.wallS : NaN,
  };
}

const NAMES: Record<Mode, string> = {
  direct: 'direct',
  bare: 'bare relay',
  ws: 'server WS',
  sse: 'server SSE',
};
/** `--bare node`: the rows of the bare slot come from the node:http reference relay. */
export function nameBareSlot(name: string): void {
  NAMES.bare = name;
}
export const rowName = (r: Row) => `${NAMES[r.mode]}${r.watchers > 1 ? ` ×${r.watchers} watchers` : ''}`;

const find = (rows: Row[], mode: Mode, runs: number, watchers = 1, arrival: Arrival = 'steady') =>
  rows.find((d) => d.mode === mode && d.runs === runs && d.watchers === watchers && d.arrival === arrival);
/** The direct row a relay row is compared against: same load and arrivals, one reader per run. */
const baseline = (rows: Row[], r: Row) => find(rows, 'direct', r.runs, 1, r.arrival);
const bareOf = (rows: Row[], r: Row) => find(rows, 'bare', r.runs, 1, r.arrival);

export function added(
  rows: Row[],
  r: Row,
): { p50: number; p99: number; max: number; ttfp50: number; ttfp99: number } {
  const d = baseline(rows, r);
  if (!d) return { p50: NaN, p99: NaN, max: NaN, ttfp50: NaN, ttfp99: NaN };
  return {
    p50: r.lat.p50 - d.lat.p50,
    p99: r.lat.p99 - d.lat.p99,
    max: r.lat.max - d.lat.max,
    ttfp50: r.ttfp.p50 - d.ttfp.p50,
    ttfp99: r.ttfp.p99 - d.ttfp.p99,
  };
}

function latencyRows(rows: Row[], shown: Row[]): { head: string[]; body: string[][] } {
  const head = [
    'runs / path',
    'p50',
    'p99',
    'max',
    '+p50',
    '+p99',
    '+max',
    '1st piece p50',
    '+1st p50',
    '+1st p99',
  ];
  const body = shown.map((r) => {
    const a = added(rows, r);
    const rel = r.mode !== 'direct';
    return [
      `${r.runs} ${rowName(r)}`,
      fmt(r.lat.p50),
      fmt(r.lat.p99),
      fmt(r.lat.max),
      rel ? fmtDelta(a.p50) : '',
      rel ? fmtDelta(a.p99) : '',
      rel ? fmtDelta(a.max) : '',
      fmt(r.ttfp.p50),
      rel ? fmtDelta(a.ttfp50) : '',
      rel ? fmtDelta(a.ttfp99) : '',
    ];
  });
  return { head, body };
}

function costRows(rows: Row[], shown: Row[]): { head: string[]; body: string[][] } {
  const head = [
    'runs / path',
    'offered/s',
    'sent/s',
    'delivered/s',
    'all arrived',
    'CPU s/10k',
    'vs bare',
    'peak RSS MB',
    'loop delay p99/max',
    'client cores',
  ];
  const body = shown.map((r) => {
    const bare = bareOf(rows, r);
    const vsBare = r.cpuPer10k !== null && bare?.cpuPer10k ? `${fmt(r.cpuPer10k / bare.cpuPer10k)}×` : '';
    return [
      `${r.runs} ${rowName(r)}`,
      String(r.offeredPerS),
      fmt(r.sentPerS, 0),
      fmt(r.deliveredPerS, 0),
      (r.allArrived ? `yes (${r.received})` : `NO ${r.received}/${r.expected}`) +
        (r.catchUp > 0 ? `, ${fmt((100 * r.catchUp) / r.received, 1)}% catch-up` : ''),
      fmt(r.cpuPer10k, 3),
      r.mode === 'bare' ? '1.00×' : vsBare,
      fmt(r.peakRssMb, 0),
      Number.isNaN(r.loopMaxMs) ? '' : `${fmt(r.loopP99Ms, 1)} / ${fmt(r.loopMaxMs, 1)}`,
      fmt(r.clientCores),
    ];
  });
  return { head, body };
}

export function targets(rows: Row[], idle: IdleResult, replay: ReplayResult | null): Target[] {
  const out: Target[] = [];
  const t = (name: string, value: number, limit: number, unit: string, digits = 2, cmp: 'le' | 'ge' = 'le') =>
    out.push({
      name,
      figure: Number.isNaN(value) ? 'not measured' : `${fmt(value, digits)}${unit}`,
      limit: `${cmp === 'le' ? '≤' : '≥'} ${limit}${unit}`,
      pass: Number.isNaN(value) ? null : cmp === 'le' ? value <= limit : value >= limit,
    });
  for (const mode of ['ws', 'sse'] as const) {
    const T = mode.toUpperCase();
    for (const runs of [1, 100]) {
      const r = find(rows, mode, runs);
      t(`added latency p50, ${runs} run${runs > 1 ? 's' : ''}, ${T}`, r ? added(rows, r).p50 : NaN, 1, ' ms');
    }
    const r100 = find(rows, mode, 100);
    t(`added latency p99, 100 runs, ${T}`, r100 ? added(rows, r100).p99 : NaN, 10, ' ms');
    // At one run the CPU is mostly timers and GC, not pieces: the target is about load.
    for (const runs of [100, 500]) {
      const r = find(rows, mode, runs);
      const bare = r && bareOf(rows, r);
      if (!r || !bare || r.cpuPer10k === null || !bare.cpuPer10k) continue;
      const limit = mode === 'ws' ? 0.5 : 1;
      t(`CPU per 10k pieces, ${runs} runs, ${T} vs bare relay`, r.cpuPer10k / bare.cpuPer10k, limit, '×');
    }
    const r500 = find(rows, mode, 500);
    const bare500 = find(rows, 'bare', 500);
    t(
      `delivered pieces/s at 500 runs, ${T} vs bare relay`,
      r500 && bare500 ? r500.deliveredPerS / bare500.deliveredPerS : NaN,
      1.5,
      '×',
      2,
      'ge',
    );
    t(`added latency p99, 500 runs, ${T}`, r500 ? added(rows, r500).p99 : NaN, 50, ' ms');
  }
  t('server RSS with 10,000 idle WebSockets', idle.rssMb ?? NaN, 300, ' MB', 0);
  for (const tr of ['ws', 'sse'] as const) {
    const ms = replay ? dist(replay[tr]).p50 : NaN;
    t(`replay of ${replay?.frames ?? 10_000} frames, ${tr.toUpperCase()} (median)`, ms, 200, ' ms', 1);
  }
  return out;
}

const verdict = (p: boolean | null) => (p === null ? 'n/a' : p ? 'PASS' : 'MISS');

export interface Report {
  text: string;
  markdown: string;
  svg: string;
}

export function render(
  rows: Row[],
  idle: IdleResult,
  replay: ReplayResult | null,
  ts: Target[],
  machine: string,
): Report {
  const steady = rows.filter((r) => r.arrival === 'steady');
  const burst = rows.filter((r) => r.arrival === 'burst');
  const lat = latencyRows(rows, steady);
  const cost = costRows(rows, steady);
  const bLat = latencyRows(rows, burst);
  const bCost = costRows(rows, burst);
  const burstTitle =
    'Start burst: every run started in the same instant (steady-state window = the first run length)';
  const idleLine = idle.skipped
    ? `idle WebSockets: skipped — ${idle.skipped}`
    : `idle WebSockets: ${idle.sockets} open (${idle.failed} failed) over ${idle.clients} client process(es); server RSS ` +
      `${fmt(idle.rssBeforeMb, 0)} → ${fmt(idle.rssMb, 0)} MB, heap ${fmt(idle.heapBeforeMb, 0)} → ${fmt(idle.heapMb, 0)} MB; ` +
      `${fmt(idle.perSocketKb, 1)} KB RSS per socket`;
  const replayLine = replay
    ? `replay of a ${replay.pieces}-piece run (${replay.frames} frames, created in ${fmt(replay.createMs, 0)} ms): ` +
      `WS median ${fmt(dist(replay.ws).p50, 1)} ms (max ${fmt(dist(replay.ws).max, 1)}), ` +
      `SSE median ${fmt(dist(replay.sse).p50, 1)} ms (max ${fmt(dist(replay.sse).max, 1)})`
    : 'replay: not measured';
  const tt = {
    head: ['target', 'figure', 'limit', ''],
    body: ts.map((x) => [x.name, x.figure, x.limit, verdict(x.pass)]),
  };
  const text = [
    machine,
    '',
    'Latency per piece, ms (receive − send on the shared clock; + = added over direct at the same load)',
    table(lat.head, lat.body),
    '',
    'Throughput and cost (delivered/s and sent/s: in the window where every user streams)',
    table(cost.head, cost.body),
    '',
    ...(burst.length ? [burstTitle, table(bLat.head, bLat.body), '', table(bCost.head, bCost.body), ''] : []),
    idleLine,
    replayLine,
    '',
    'Targets',
    table(tt.head, tt.body),
  ].join('\n');
  const markdown = [
    `_${machine}_`,
    '',
    '**Latency per piece, ms** (receive − send on the shared clock; `+` = added over direct at the same load)',
    '',
    markdownTable(lat.head, lat.body),
    '',
    '**Throughput and cost** (delivered/s and sent/s: in the window where every user streams)',
    '',
    markdownTable(cost.head, cost.body),
    '',
    ...(burst.length
      ? [
          `**${burstTitle}**`,
          '',
          markdownTable(bLat.head, bLat.body),
          '',
          markdownTable(bCost.head, bCost.body),
          '',
        ]
      : []),
    `- ${idleLine}`,
    `- ${replayLine}`,
    '',
    '**Targets**',
    '',
    markdownTable(tt.head, tt.body),
  ].join('\n');
  return { text, markdown, svg: chart(rows, machine) };
}

function chart(rows: Row[], machine: string): string {
  const levels = [
    ...new Set(rows.filter((r) => r.watchers === 1 && r.arrival === 'steady').map((r) => r.runs)),
  ].sort((a, b) => a - b);
  const series = (mode: Mode, f: (r: Row) => number) =>
    levels.map((n) => {
      const r = find(rows, mode, n);
      return r ? f(r) : NaN;
    });
  const C = { bare: '#888888', ws: '#1f77b4', sse: '#d62728', direct: '#2ca02c' };
  const atLoad = (r: Row) => (r.runs >= 100 ? (r.cpuPer10k ?? NaN) : NaN);
  return renderChart(`Event-stream relay benchmark — ${machine}`, levels.map(String), [
    {
      title: 'Added latency per piece (ms)',
      yLabel: 'ms over direct',
      series: [
        { name: 'WS p50', color: C.ws, values: series('ws', (r) => added(rows, r).p50) },
        { name: 'WS p99', color: C.ws, dashed: true, values: series('ws', (r) => added(rows, r).p99) },
        { name: 'SSE p50', color: C.sse, values: series('sse', (r) => added(rows, r).p50) },
        { name: 'SSE p99', color: C.sse, dashed: true, values: series('sse', (r) => added(rows, r).p99) },
        { name: 'bare p50', color: C.bare, values: series('bare', (r) => added(rows, r).p50) },
        { name: 'bare p99', color: C.bare, dashed: true, values: series('bare', (r) => added(rows, r).p99) },
      ],
    },
    {
      // At one run the CPU is timers and GC, not pieces; it would flatten the rest of the panel.
      title: 'Relay CPU s per 10,000 pieces (at load)',
      yLabel: 'CPU seconds',
      series: [
        { name: 'bare relay', color: C.bare, values: series('bare', atLoad) },
        { name: 'server WS', color: C.ws, values: series('ws', atLoad) },
        { name: 'server SSE', color: C.sse, values: series('sse', atLoad) },
      ],
    },
    {
      title: 'Delivered pieces/s',
      yLabel: 'pieces per second',
      series: [
        { name: 'offered', color: '#000000', dashed: true, values: series('direct', (r) => r.offeredPerS) },
        { name: 'direct', color: C.direct, values: series('direct', (r) => r.deliveredPerS) },
        { name: 'bare relay', color: C.bare, values: series('bare', (r) => r.deliveredPerS) },
        { name: 'server WS', color: C.ws, values: series('ws', (r) => r.deliveredPerS) },
        { name: 'server SSE', color: C.sse, values: series('sse', (r) => r.deliveredPerS) },
      ],
    },
  ]);
}
