/** Field names of an event line, in order: `user_id|event_type|start_time|end_time|source_behavior_ids|summary`. */
export const EVENT_LINE_FIELDS: readonly string[] = Object.freeze([
  'user_id',
  'event_type',
  'start_time',
  'end_time',
  'source_behavior_ids',
  'summary',
]);
