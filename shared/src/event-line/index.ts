export { EVENT_LINE_FIELDS } from './event-line-fields.js';
export { formatEventLine, type EventLineInput } from './format-event-line.js';
export { LineSplitter } from './line-splitter.js';
export { isValidMinuteTime } from './is-valid-minute-time.js';
export { splitBehaviourIds } from './split-behaviour-ids.js';
export {
  validateEventLine,
  rejectLine,
  type ValidationContext,
  type ParsedLine,
} from './validate-event-line.js';
export { EventLineParser, type EventLineParserOptions } from './event-line-parser.js';
