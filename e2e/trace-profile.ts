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

/** What the page's main thread spent, from a trace of the `devtools.timeline` (or only `toplevel`) categories. */
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
/**
 * Names of a thread's tasks: `RunTask` with the devtools.timeline categories, `ThreadControllerImpl::RunTask`
 * with the much lighter `toplevel` one (enough for thread time per task, and cheap per WebSocket message).
 */
const TASK_NAMES = ['RunTask', 'ThreadControllerImpl::RunTask'];
const isTask = (e: TraceEvent) => TASK_NAMES.includes(e.name);
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
    const total = events.filter(isTask).reduce((a, e) => a + cpu(e), 0);
    if (total > busiest) [main, busiest] = [events, total];
  }
  const name = TASK_NAMES.find((n) => main.some((e) => e.name === n));
  const tasks = main.filter((e) => e.name === name);
  const callbacks = main.filter((e) => e.name === 'FireAnimationFrame').sort((a, b) => a.ts - b.ts);
  const layouts = main
    .filter((e) => e.name === 'Layout' || e.name === 'UpdateLayoutTree')
    .sort((a, b) => a.ts - b.ts);
  // One pass over both lists in time order (a long streaming trace holds hundreds of thousands of events).
  let forcedUs = 0;
  let i = 0;
  for (const c of callbacks) {
    while (i < layouts.length && layouts[i]!.ts < c.ts) i++;
    for (let j = i; j < layouts.length && layouts[j]!.ts <= c.ts + (c.dur ?? 0); j++)
      if (within(layouts[j]!, c)) forcedUs += cpu(layouts[j]!);
  }
  // A loop, not Math.max(...): a spread of that many arguments overflows the stack.
  let maxTaskUs = 0;
  for (const t of tasks) maxTaskUs = Math.max(maxTaskUs, cpu(t));
  return {
    tasks: tasks.length,
    maxTaskCpuMs: ms(maxTaskUs),
    frameCallbacks: callbacks.length,
    frameCallbackCpuMs: ms(callbacks.reduce((a, e) => a + cpu(e), 0)),
    layoutInFrameCallbacksMs: ms(forcedUs),
  };
}
