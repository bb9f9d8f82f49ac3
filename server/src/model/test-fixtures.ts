import type { Behaviour, User } from '@app/shared';
import { minutesOf } from './rules.js';

/** A hand-made buyer journey used by the model and prompt tests. */
export const USER: User = {
  id: 'user_0007',
  name: '张伟',
  profile: { city: '上海', budget: '25-30万', 意向: 'Model Y' },
};

const rows: [string, string, string, string, string | null][] = [
  ['2026-01-10 20:00', '浏览车型', 'Model Y', 'app', null],
  ['2026-01-10 20:15', '查看配置', 'Model Y', 'app', '长续航版'],
  ['2026-01-10 20:40', '对比车型', 'Model 3', 'web', null],
  ['2026-01-11 09:00', '预约试驾', 'Model Y', 'app', '周六上午'],
  ['2026-01-15 10:00', '到店', '徐汇门店', 'store', null],
  ['2026-01-15 10:20', '看车', 'Model Y', 'store', '咨询配置'],
  ['2026-01-15 10:40', '试驾', 'Model Y', 'store', null],
  ['2026-01-15 11:30', '询价', 'Model Y', 'store', '问了落地价'],
  ['2026-01-15 11:45', '咨询金融方案', 'Model Y', 'store', '三年0息'],
  ['2026-01-16 19:00', '浏览车型', 'Model Y', 'app', null],
  ['2026-01-16 23:50', '浏览车型', 'Model 3', 'app', null],
  ['2026-01-20 14:00', '支付定金', 'Model Y', 'app', '定金5000元'],
  ['2026-01-20 14:05', '下单', 'Model Y', 'app', null],
  ['2026-01-21 10:00', '领取礼品', '车模', 'store', null],
];

/** The journey as behaviours, ids b0007-01…b0007-14. */
export const BEHAVIOURS: Behaviour[] = rows.map(([ts, action, object, channel, detail], i) => ({
  id: `b0007-${String(i + 1).padStart(2, '0')}`,
  userId: USER.id,
  ts,
  action,
  object,
  channel,
  detail,
}));

/** Why a line is not a grounded event line for the user and behaviour ids, or null when it is. */
export function lineProblem(line: string, userId: string, ids: ReadonlySet<string>): string | null {
  const f = line.split('|');
  if (f.length !== 6) return 'field_count';
  const [user, type, start, end, sources, summary] = f as [string, string, string, string, string, string];
  if (user !== userId) return 'user_mismatch';
  const s = minutesOf(start);
  const e = minutesOf(end);
  if (s === null || e === null) return 'bad_time';
  if (e < s) return 'end_before_start';
  const cited = sources.split(',');
  if (cited.some((id) => !ids.has(id))) return 'unknown_behaviour';
  return type.trim() && summary.trim() ? null : 'empty_field';
}

/** Resolves with the next `name` event (matching `pick`), or rejects after `ms`. */
export function nextEvent<T>(
  emitter: import('node:events').EventEmitter,
  name: string,
  ms: number,
  pick: (e: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`no '${name}' event within ${ms} ms`));
    }, ms);
    const on = (e: T): void => {
      if (!pick(e)) return;
      clearTimeout(timer);
      emitter.off(name, on);
      resolve(e);
    };
    emitter.on(name, on);
  });
}

/** Runs `fn` with a signal that aborts after `ms`, so no HTTP wait in a test is unbounded. */
export async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`deadline of ${ms} ms passed`)), ms);
  try {
    return await fn(ac.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** The 'closed' event of the next chat request the model receives, within `ms`. */
export async function closedOfNextRequest<T extends { id: string }>(
  emitter: import('node:events').EventEmitter,
  ms: number,
): Promise<T> {
  const ids: string[] = [];
  const onRequest = (e: { id: string }): number => ids.push(e.id);
  emitter.on('request', onRequest);
  try {
    return await nextEvent<T>(emitter, 'closed', ms, (e) => e.id === ids[0]);
  } finally {
    emitter.off('request', onRequest);
  }
}
