import type { GenerateSpecOptions } from 'hono-openapi';
import { PROTOCOL_VERSION } from '@app/shared';
import { TOKEN_COOKIE } from '../auth.js';

/** The parts of the OpenAPI document that are about the whole API, not one route. */
export const OPENAPI_DOCUMENTATION: NonNullable<GenerateSpecOptions['documentation']> = {
  info: {
    title: 'event-stream API',
    version: String(PROTOCOL_VERSION),
    description:
      'Runs that turn a user’s behaviour log into events with an LLM, streamed live. REST and Server-Sent ' +
      'Events here; the WebSocket channel (`/api/v1/ws`) is described by `/api/v1/asyncapi.json`. Every ' +
      'error is `{ "error": { "code", "message" } }` with a stable code.',
  },
  tags: [
    { name: 'runs', description: 'Start, inspect, cancel and resume runs.' },
    { name: 'streams', description: 'A run’s frames as Server-Sent Events.' },
    { name: 'events', description: 'Events the runs produced.' },
    { name: 'users', description: 'Users and their behaviour logs.' },
    { name: 'server', description: 'Status, metrics and the session cookie.' },
    { name: 'docs', description: 'These descriptions.' },
  ],
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'The server’s API_TOKEN.' },
      cookie: {
        type: 'apiKey',
        in: 'cookie',
        name: TOKEN_COOKIE,
        description: 'Set by POST /api/v1/session.',
      },
      query: {
        type: 'apiKey',
        in: 'query',
        name: 'token',
        description: 'For clients that cannot set headers.',
      },
    },
  },
  // Only when the server has API_TOKEN; the empty alternative is a server without one.
  security: [{ bearer: [] }, { cookie: [] }, { query: [] }, {}],
};
