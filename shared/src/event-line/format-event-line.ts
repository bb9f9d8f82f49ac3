/** The parts of an event line, before validation. */
export interface EventLineInput {
  userId: string;
  eventType: string;
  startTime: string;
  endTime: string;
  sourceBehaviorIds: string[];
  summary: string;
}

/** Removes line breaks and field separators so a value cannot split or end the line. */
const clean = (value: string): string => value.replace(/[\r\n|]/g, '').trim();

/**
 * Formats one event as `user_id|event_type|start_time|end_time|ids|summary`, without a trailing newline.
 * Line breaks and `|` are stripped from fields; in the summary, line breaks become spaces and `|` becomes `／`.
 */
export function formatEventLine(e: EventLineInput): string {
  const ids = e.sourceBehaviorIds.map((id) => id.replace(/[\r\n|,，\s]/g, '')).filter((id) => id !== '');
  const summary = e.summary
    .replace(/[\r\n]+/g, ' ')
    .replace(/\|/g, '／')
    .trim();
  return [
    clean(e.userId),
    clean(e.eventType),
    clean(e.startTime),
    clean(e.endTime),
    ids.join(','),
    summary,
  ].join('|');
}
