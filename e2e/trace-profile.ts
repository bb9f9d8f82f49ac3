/** One event of a Chrome trace (the JSON that `browser.stopTracing()` returns). */
interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  /** Wall-clock duration, µs. */
  dur?: number;
  /** Thread time (time on a core), µs. */
  tdur?: number;
  args?: { name?: string };
}

/** What the page's main thread spent, from a trace of the `devtools.timeline` categories. */
export interface MainThreadProfile {
  tasks: number;
  /** Thread time of the busiest task: what it costs on an idle machine, whatever else wanted the cores. */
  maxTaskCpuMs: number;
  /** requestAnimationFrame callbacks run. */
  frameCallbacks: number;
  frameCallbackCpuMs: number;
  /** Style and layout forced inside those callbacks (a DOM read after a write). */
  layoutInFrameCallbacksMs: number;
}

const ms = (us: number) => us / 1000;
const within = (inner: TraceEvent, outer: TraceEvent) =>
  inner.ts >= outer.ts && inner.ts + (inner.dur ?? 0) <= outer.ts + (outer.dur ?? 0);

/**
 * Sums a trace up for the page's renderer main thread (the busiest `CrRendererMain`: the trace also
 * holds other renderers). Thread time, not wall time, so a task the OS kept off the cores does not count
 * as long.
 */
export function mainThreadProfile(trace: Buffer): MainThreadProfile {
  const { traceEvents } = JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] };
  const threads = traceEvents.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const cpu = (e: TraceEvent) => e.tdur ?? e.dur ?? 0;
  let main: TraceEvent[] = [];
  let busiest = -1;
  for (const t of threads) {
    const events = traceEvents.filter((e) => e.pid === t.pid && e.tid === t.tid && e.ph === 'X');
    const total = events.filter((e) => e.name === 'RunTask').reduce((a, e) => a + cpu(e), 0);
    if (total > busiest) [main, busiest] = [events, total];
  }
  const tasks = main.filter((e) => e.name === 'RunTask');
  const callbacks = main.filter((e) => e.name === 'FireAnimationFrame');
  const layouts = main.filter((e) => e.name === 'Layout' || e.name === 'UpdateLayoutTree');
  const forced = callbacks.flatMap((c) => layouts.filter((l) => within(l, c)));
  return {
    tasks: tasks.length,
    maxTaskCpuMs: ms(Math.max(0, ...tasks.map(cpu))),
    frameCallbacks: callbacks.length,
    frameCallbackCpuMs: ms(callbacks.reduce((a, e) => a + cpu(e), 0)),
    layoutInFrameCallbacksMs: ms(forced.reduce((a, e) => a + cpu(e), 0)),
  };
}
