import type { RunFrame } from '@app/shared';
import type { RunView } from '@app/shared/client';

const err = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Prints one run's frames: with `json`, every frame as a JSON line on stdout; otherwise the model's
 * text on stdout as it arrives and status lines on stderr.
 */
export function framePrinter(json: boolean): (f: RunFrame, view: RunView) => void {
  let midLine = false;
  // Status lines go between lines of text on a terminal, never into the middle of one.
  const breakLine = () => {
    if (midLine && process.stdout.isTTY) process.stdout.write('\n');
    midLine = false;
  };
  const status = (line: string) => {
    breakLine();
    err(line);
  };
  return (f) => {
    if (json) {
      process.stdout.write(`${JSON.stringify(f)}\n`);
      return;
    }
    switch (f.type) {
      case 'start':
        status(`${f.message} (run ${f.runId}, ${f.behaviourCount} behaviours, model ${f.model})`);
        return;
      case 'progress':
        if (f.stage === 'line_rejected' && f.rejected)
          status(`  ! line ${f.rejected.lineNo} rejected: ${f.rejected.reason}`);
        else if (f.stage !== 'generating') status(`… ${f.message}`);
        return;
      case 'llm_chunk':
        process.stdout.write(f.content);
        midLine = !f.content.endsWith('\n');
        return;
      case 'event':
        // Its line is already in the text; a merge is not, and changes the final set.
        if (f.replaces?.length)
          status(
            `  ⇢ lines ${f.replaces.join(', ')} merged into line ${f.event.lineNo} (${f.event.eventType})`,
          );
        return;
      case 'done':
      case 'cancelled':
      case 'error':
        breakLine(); // the summary follows
        return;
      default: {
        const _: never = f;
        return _;
      }
    }
  };
}

/** One-line outcome: status, events, rejected lines, tokens and time. */
export function summaryLine(v: RunView): string {
  const u = v.usage;
  const tokens = u
    ? `${u.totalTokens} tokens (${u.promptTokens} prompt + ${u.completionTokens} completion${u.estimated ? ', estimated' : ''})`
    : 'tokens unknown';
  const why = v.error
    ? ` — ${v.error.code}: ${v.error.message}${v.error.retryable ? ' (resumable)' : ''}`
    : '';
  return `${v.status}${why} · ${v.events.length} events · ${v.rejected.length} rejected · ${tokens} · ${(v.durationMs / 1000).toFixed(1)} s`;
}

/** Exit code for a settled run: 0 only when it completed. */
export const exitCodeOf = (v: RunView): number => (v.status === 'done' ? 0 : 1);
