// Test-only helpers for the client's integration tests (not exported by the package).
import WebSocket from 'ws';
import type { RunDetail } from '../domain.js';
import { isTerminalFrame, type RunFrame } from '../frames.js';
import type { StreamClient } from './stream-client.js';

/** A `ws` constructor that records every socket it makes, so a test can cut one. */
export function recordingWebSocket(onCreate?: (ws: WebSocket) => void): {
  Ctor: new (url: string) => WebSocket;
  sockets: WebSocket[];
} {
  const sockets: WebSocket[] = [];
  class Recorded extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
      onCreate?.(this);
    }
  }
  return { Ctor: Recorded, sockets };
}

export const wsUrl = (httpUrl: string): string => `${httpUrl.replace(/^http/, 'ws')}/api/v1/ws`;
export const textOf = (frames: RunFrame[]): string =>
  frames.map((f) => (f.type === 'llm_chunk' ? f.content : '')).join('');
export const getRun = async (httpUrl: string, id: string): Promise<RunDetail> =>
  (await (await fetch(`${httpUrl}/api/v1/runs/${id}`)).json()) as RunDetail;

/** Every frame the client delivers, in order, and a way to wait for one. */
export function recordFrames(client: StreamClient): {
  all: RunFrame[];
  of(runId: string): RunFrame[];
  waitFor(pred: (f: RunFrame) => boolean, ms: number, what: string): Promise<RunFrame>;
  settled(runId: string, ms?: number): Promise<RunFrame[]>;
} {
  const all: RunFrame[] = [];
  const waiters = new Set<(f: RunFrame) => void>();
  client.onFrame((f) => {
    all.push(f);
    for (const w of [...waiters]) w(f);
  });
  const of = (runId: string) => all.filter((f) => f.runId === runId);
  const waitFor = (pred: (f: RunFrame) => boolean, ms: number, what: string) =>
    new Promise<RunFrame>((resolve, reject) => {
      const hit = all.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const check = (f: RunFrame) => {
        if (!pred(f)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(f);
      };
      waiters.add(check);
    });
  const settled = async (runId: string, ms = 10_000) => {
    await waitFor((f) => f.runId === runId && isTerminalFrame(f), ms, `the end of ${runId}`);
    return of(runId);
  };
  return { all, of, waitFor, settled };
}

/** Seqs must be 1..n, each once, in order. */
export const seqsOf = (frames: RunFrame[]): number[] => frames.map((f) => f.seq);
export const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
