import type { WebSocketCtor } from '@app/shared/client';
import type { Transport } from './transport';
import { WsReprobe, type ReprobeOptions } from './ws-reprobe';

/** Which transport the board uses, and why. */
export type LinkState =
  /** Not opened yet, or closed for good. */
  | { name: 'closed' }
  /** WebSocket (which reconnects by itself, and reports when it looks blocked). */
  | { name: 'websocket'; transport: Transport }
  /** WebSocket looked blocked while HTTP worked: SSE, with WebSocket probed now and then. */
  | { name: 'sse-fallback'; transport: Transport }
  /** This browser has no WebSocket: SSE for good. */
  | { name: 'sse-only'; transport: Transport };

/** Payload of a switch, shaped like the client's connection state changes. */
export interface LinkChange {
  newState: LinkState;
  oldState: LinkState;
}

/** What a {@link TransportSwitch} builds transports with. */
export interface SwitchOptions {
  /** The platform's WebSocket, looked up when needed (tests and some proxies remove it). */
  WebSocket(): WebSocketCtor | undefined;
  /** A WebSocket transport that calls `blocked` once WebSocket looks blocked. */
  ws(WebSocket: WebSocketCtor, blocked: () => void): Transport;
  sse(): Transport;
  /** One probe of WebSocket while on SSE after a fallback. */
  probe(WebSocket: WebSocketCtor): Promise<boolean>;
  /** Requests in flight: a switch waits until they are answered on the transport that sent them. */
  busy(): boolean;
  random?: ReprobeOptions['random'];
}

/**
 * Chooses WebSocket or SSE: WebSocket when the browser has it, SSE when it has not or when WebSocket
 * looks blocked, and WebSocket again once a probe finds it working. The old transport is closed before
 * the new one opens; listeners re-watch their runs on the new one.
 */
export class TransportSwitch {
  state: LinkState = { name: 'closed' };
  private readonly listeners = new Set<(c: LinkChange) => void>();
  private readonly reprobe: WsReprobe;

  constructor(private readonly opts: SwitchOptions) {
    this.reprobe = new WsReprobe({
      probe: () => {
        const WS = opts.WebSocket();
        return WS ? opts.probe(WS) : Promise.resolve(false);
      },
      busy: opts.busy,
      found: () => this.takeBack(),
      random: opts.random,
    });
  }

  /** The transport in use, if any. */
  get transport(): Transport | null {
    return this.state.name === 'closed' ? null : this.state.transport;
  }

  /** Switches; returns the function that stops listening. */
  onChange(cb: (c: LinkChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Opens WebSocket when the browser has it, else SSE for good. */
  open(): void {
    if (this.state.name !== 'closed') return;
    const WS = this.opts.WebSocket();
    this.move(() => (WS ? this.websocket(WS) : { name: 'sse-only', transport: this.opts.sse() }));
  }

  /** WebSocket looks blocked: SSE from here on, until a probe finds WebSocket working. */
  fallBack(): void {
    if (this.state.name !== 'websocket') return;
    this.move(() => ({ name: 'sse-fallback', transport: this.opts.sse() }));
    this.reprobe.start();
  }

  /** Back to WebSocket after a fallback. */
  takeBack(): void {
    const WS = this.opts.WebSocket();
    if (this.state.name !== 'sse-fallback' || !WS) return;
    this.reprobe.stop();
    this.move(() => this.websocket(WS));
  }

  close(): void {
    this.reprobe.stop();
    if (this.state.name !== 'closed') this.move(() => ({ name: 'closed' }));
  }

  private websocket(WS: WebSocketCtor): LinkState {
    const transport: Transport = this.opts.ws(WS, () => {
      // Only the transport in use may decide that WebSocket is blocked.
      if (this.transport === transport) this.fallBack();
    });
    return { name: 'websocket', transport };
  }

  /** The old transport closes before the next one opens, so its last state report comes first. */
  private move(next: () => LinkState): void {
    const oldState = this.state;
    if (oldState.name !== 'closed') oldState.transport.close();
    const newState = next();
    this.state = newState;
    for (const cb of [...this.listeners]) cb({ newState, oldState });
  }
}
