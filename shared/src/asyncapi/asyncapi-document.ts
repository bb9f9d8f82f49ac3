import type { z } from 'zod';
import { RUN_FRAME_TYPES, runFrameSchema } from '../frames.js';
import {
  ackMessageSchema,
  clientMessageSchema,
  helloMessageSchema,
  pongMessageSchema,
  PROTOCOL_VERSION,
  requestErrorMessageSchema,
  serverMessageSchema,
} from '../ws-protocol.js';
import { componentSchemas, schemaId } from './component-schemas.js';

const CHANNEL = 'runs';
const channelRef = { $ref: `#/channels/${CHANNEL}` };
const messageRef = (s: z.ZodType) => ({ $ref: `#/channels/${CHANNEL}/messages/${schemaId(s)}` });

/** A message of the channel: named by its `type`, its payload the schema's JSON Schema. */
function message(s: z.ZodType & { shape: { type: { value: string } } }, description: string | undefined) {
  const id = schemaId(s);
  return [
    id,
    {
      name: s.shape.type.value,
      title: id,
      ...(description ? { summary: description } : {}),
      payload: { $ref: `#/components/schemas/${id}` },
    },
  ] as const;
}

const DESCRIPTION = `Many runs on one socket. The server speaks first (\`hello\`); every request may carry a
\`requestId\` that its answer (\`ack\`, \`pong\` or \`request_error\`) echoes. Run frames are the same JSON as
the SSE endpoints send, with the same \`seq\`. With API_TOKEN set the upgrade needs the token:
\`Authorization: Bearer …\`, the UI's session cookie, or \`?token=\`.`;

/**
 * The AsyncAPI 3 description of the WebSocket channel, generated from the zod schemas of its messages
 * (never written by hand): every client and server message type, one operation per request with its
 * replies, and what the server sends on its own.
 */
export function asyncApiDocument(server: { host: string; secure: boolean }): Record<string, unknown> {
  const clients = clientMessageSchema.options;
  const servers = serverMessageSchema.options;
  const frames = runFrameSchema.options;
  const all = [...clients, ...servers];
  const schemas = componentSchemas(all, 'draft-7');
  const described = (s: z.ZodType) => schemas[schemaId(s)]?.description as string | undefined;
  const operations: Record<string, unknown> = {};
  for (const m of clients) {
    const type = m.shape.type.value;
    const replies = type === 'ping' ? [pongMessageSchema] : [ackMessageSchema, requestErrorMessageSchema];
    operations[type] = {
      action: 'receive',
      channel: channelRef,
      summary: described(m),
      messages: [messageRef(m)],
      reply: { channel: channelRef, messages: replies.map(messageRef) },
    };
  }
  operations.hello = {
    action: 'send',
    channel: channelRef,
    summary: 'The first message on every socket.',
    messages: [messageRef(helloMessageSchema)],
  };
  operations.runFrames = {
    action: 'send',
    channel: channelRef,
    summary: `Frames of the runs the socket watches (${RUN_FRAME_TYPES.join(', ')}), in seq order per run.`,
    messages: frames.map(messageRef),
  };
  const messages = Object.fromEntries(all.map((m) => message(m, described(m))));
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'event-stream WebSocket channel',
      version: String(PROTOCOL_VERSION),
      description: DESCRIPTION,
    },
    defaultContentType: 'application/json',
    servers: {
      [server.secure ? 'wss' : 'ws']: { host: server.host, protocol: server.secure ? 'wss' : 'ws' },
    },
    channels: {
      [CHANNEL]: {
        address: '/api/v1/ws',
        title: 'Runs',
        description: 'Start, watch, cancel and resume runs; receive their frames.',
        messages: Object.fromEntries(
          Object.keys(messages).map((id) => [id, { $ref: `#/components/messages/${id}` }]),
        ),
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                token: { type: 'string', description: 'The API_TOKEN, for clients that cannot set headers.' },
              },
            },
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations,
    components: { messages, schemas },
  };
}
