import type { NetworkStatus } from './types.js';

interface BrowserGlobals {
  navigator?: { onLine?: unknown };
  addEventListener?: (type: string, cb: () => void) => void;
  removeEventListener?: (type: string, cb: () => void) => void;
}

/** The browser's online/offline signal, or null where there is none (Node, workers without it). */
export function browserNetwork(): NetworkStatus | null {
  const g = globalThis as BrowserGlobals;
  const { addEventListener: add, removeEventListener: remove } = g;
  if (typeof g.navigator?.onLine !== 'boolean' || typeof add !== 'function' || typeof remove !== 'function')
    return null;
  return {
    onLine: () => g.navigator?.onLine !== false,
    subscribe(cb) {
      const online = () => cb(true);
      const offline = () => cb(false);
      add.call(g, 'online', online);
      add.call(g, 'offline', offline);
      return () => {
        remove.call(g, 'online', online);
        remove.call(g, 'offline', offline);
      };
    },
  };
}
