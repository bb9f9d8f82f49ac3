/** The built-in model: an OpenAI-compatible server that abstracts events by rule. */
export { startBuiltinModel, type BuiltinModel, type BuiltinModelOptions } from './server.js';
export type { ClosedEvent, RequestEvent } from './chat-handler.js';
export { answerText } from './chat-handler.js';
export { parseFaultSpec, type Fault } from './faults.js';
export { deriveEventLines, eventTypeOf, remainingLines, type RuleEventType } from './rules.js';
export { estimateTokens } from './text-pieces.js';
