import { EventLineParser, type Behaviour, type ExtractedEvent } from '@app/shared';
import { deriveEventLines } from '../model/rules.js';

/**
 * The reference extraction of a whole history: the built-in rules over every behaviour, read back
 * with the same event-line parser a run uses. Throws if the rules ever write a line it rejects.
 */
export function referenceEvents(userId: string, behaviours: readonly Behaviour[]): ExtractedEvent[] {
  const parser = new EventLineParser({
    runId: 'reference',
    userId,
    behaviourIds: new Set(behaviours.map((b) => b.id)),
  });
  const lines = deriveEventLines(userId, behaviours);
  const results = [...parser.push(lines.map((l) => `${l}\n`).join('')), ...parser.end()];
  return results.map((r) => {
    if (r.kind === 'event') return r.event;
    const why = r.kind === 'rejected' ? `${r.line.code}: ${r.line.text}` : `blank line ${r.lineNo}`;
    throw new Error(`reference line for ${userId} rejected (${why})`);
  });
}
