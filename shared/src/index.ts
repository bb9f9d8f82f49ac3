export * from './errors.js';
export * from './domain.js';
export * from './frames.js';
export * from './ws-protocol.js';
export * from './rest/index.js';
export * from './event-line/index.js';
export * from './random.js';
