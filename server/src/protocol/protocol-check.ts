import type { Logger } from 'pino';
import type { z } from 'zod';
import { runFrameSchema, serverMessageSchema } from '@app/shared';

/** How many recent messages are remembered as checked: a frame goes to every watcher, checked once. */
const RECENT = 4096;

/**
 * The test mode (PROTOCOL_CHECK=on): every message the server sends — WebSocket messages, SSE frames,
 * REST bodies — is parsed against its schema in shared/. A mismatch is logged and kept, and the test
 * server fails its test when it stops (server/src/test-support/test-server.ts).
 */
export class ProtocolCheck {
  readonly violations: string[] = [];
  /** Messages and bodies checked so far (a repeated frame counts once). */
  checked = 0;
  private readonly recent = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** A WebSocket text message: a reply, a request error or a run frame. */
  readonly wsMessage = (json: string): void => this.checkJson('WebSocket message', json, serverMessageSchema);

  /** The `data:` of an SSE event: a run frame. */
  readonly sseFrame = (json: string): void => this.checkJson('SSE frame', json, runFrameSchema);

  /** A JSON body, already parsed, against the schema its route documents. */
  body(where: string, body: unknown, schema: z.ZodType | null): void {
    this.checked++;
    if (!schema) return this.report(`${where}: no schema documents this response`);
    const r = schema.safeParse(body);
    if (!r.success) this.report(`${where}: ${issuesOf(r.error)} in ${JSON.stringify(body).slice(0, 300)}`);
  }

  /** Records a mismatch. */
  report(violation: string): void {
    this.violations.push(violation);
    this.log.error({ violation }, 'the server sent something its protocol schema does not allow');
  }

  private checkJson(what: string, json: string, schema: z.ZodType): void {
    if (this.recent.has(json)) return;
    if (this.recent.size >= RECENT) this.recent.clear();
    this.recent.add(json);
    this.checked++;
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      return this.report(`${what} is not JSON: ${json.slice(0, 300)}`);
    }
    const r = schema.safeParse(value);
    if (!r.success) this.report(`${what} ${json.slice(0, 300)}: ${issuesOf(r.error)}`);
  }
}

const issuesOf = (e: z.ZodError): string =>
  e.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
