import type { PromptBehaviour } from '../llm/prompt.js';

/** Event types the rule engine can emit. */
export type RuleEventType = '线上看车' | '到店看车' | '预约试驾' | '试驾' | '询价' | '下单' | '其他互动';

const EXACT: Record<string, RuleEventType> = {
  浏览车型: '线上看车',
  查看配置: '线上看车',
  对比车型: '线上看车',
  到店: '到店看车',
  看车: '到店看车',
  预约试驾: '预约试驾',
  试驾: '试驾',
  询价: '询价',
  咨询金融方案: '询价',
  下单: '下单',
  支付定金: '下单',
};

// Checked in order: 预约试驾 must win over 试驾, 线上 over 看车.
const KEYWORDS: [RegExp, RuleEventType][] = [
  [/预约/, '预约试驾'],
  [/试驾/, '试驾'],
  [/下单|定金|订金|签约|订车/, '下单'],
  [/询价|报价|价格|优惠|金融|贷款/, '询价'],
  [/线上|浏览|查看|对比|配置|直播|视频/, '线上看车'],
  [/到店|进店|看车|展厅/, '到店看车'],
];

const OFFLINE = /^(store|shop|dealer|showroom|offline|4s)$|门店|展厅|线下|4S/i;

/** Maps one behaviour to an event type; online-style actions done in a store count as 到店看车. */
export function eventTypeOf(action: string, channel: string): RuleEventType {
  const a = action.trim();
  const type = EXACT[a] ?? KEYWORDS.find(([re]) => re.test(a))?.[1] ?? '其他互动';
  return type === '线上看车' && OFFLINE.test(channel.trim()) ? '到店看车' : type;
}

const CHANNELS: Record<string, string> = {
  app: '通过App',
  web: '通过官网',
  h5: '通过手机网页',
  miniprogram: '通过小程序',
  wechat: '通过微信',
  phone: '通过电话',
  call: '通过电话',
};

function channelPhrase(channels: string[]): string {
  if (channels.some((c) => OFFLINE.test(c))) return channels.length === 1 ? '在门店' : '在线上和门店';
  const labels = channels.map((c) => CHANNELS[c.toLowerCase()] ?? `通过${c}`);
  return labels.length === 1 ? labels[0]! : `通过${labels.map((l) => l.replace(/^通过/, '')).join('、')}`;
}

function listed(items: string[], max: number, unit: string): string {
  const head = items.slice(0, max).join('、');
  return items.length > max ? `${head}等${items.length}${unit}` : head;
}

function distinct(xs: string[]): string[] {
  return [...new Set(xs.map((x) => x.trim()).filter((x) => x !== ''))];
}

/** A short Chinese sentence naming what was done, where, and to which objects. */
function summarize(group: PromptBehaviour[]): string {
  const acts = distinct(group.map((b) => (b.action === '到店' ? '到店参观' : b.action)));
  const objects = distinct(group.map((b) => b.object));
  const detail = distinct(group.map((b) => b.detail ?? ''))[0];
  const ch = channelPhrase(distinct(group.map((b) => b.channel)));
  // "在门店到店参观" says the place twice.
  let s = `${ch === '在门店' && acts[0]?.startsWith('到店') ? '' : ch}${listed(acts, 3, '项操作') || '互动'}`;
  if (objects.length > 0) s += `，涉及${listed(objects, 3, '项')}`;
  if (group.length > 1) s += `（共${group.length}次）`;
  if (detail) s += `，备注：${detail.length > 24 ? `${detail.slice(0, 24)}…` : detail}`;
  return s.replace(/\|/g, '｜').replace(/[\r\n]+/g, ' ');
}

/** Minutes since the epoch for a valid `YYYY-MM-DD HH:mm`, else null. */
export function minutesOf(ts: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(ts);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi);
  const back = new Date(t);
  const valid = back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d;
  return valid && h < 24 && mi < 60 ? t / 60_000 : null;
}

/** Longest span of one event, from its first behaviour. */
const GROUP_WINDOW_MIN = 4 * 60;
const ID_RE = /^[^|,\s]+$/;

/**
 * The rule engine: maps behaviours to event types and merges time-consecutive behaviours of one
 * type, on one day, within 4 hours of the group's first, into one event line. Behaviours with an
 * invalid time or an id that can't be cited (or a repeated id) are skipped, so every line is grounded.
 */
export function deriveEventLines(userId: string, behaviours: readonly PromptBehaviour[]): string[] {
  const seen = new Set<string>();
  const usable = behaviours
    .map((b, i) => ({ b, i, t: minutesOf(b.ts) }))
    .filter((x): x is { b: PromptBehaviour; i: number; t: number } => {
      if (x.t === null || !ID_RE.test(x.b.id) || seen.has(x.b.id)) return false;
      seen.add(x.b.id);
      return true;
    })
    .sort((x, y) => x.t - y.t || x.i - y.i);
  const groups: { type: RuleEventType; t0: number; items: PromptBehaviour[] }[] = [];
  for (const { b, t } of usable) {
    const type = eventTypeOf(b.action, b.channel);
    const last = groups[groups.length - 1];
    const sameDay = last !== undefined && last.items[0]!.ts.slice(0, 10) === b.ts.slice(0, 10);
    if (last && last.type === type && sameDay && t - last.t0 <= GROUP_WINDOW_MIN) last.items.push(b);
    else groups.push({ type, t0: t, items: [b] });
  }
  return groups.map(({ type, items }) => {
    const ids = items.map((b) => b.id).join(',');
    const start = items[0]!.ts;
    const end = items[items.length - 1]!.ts;
    return `${userId}|${type}|${start}|${end}|${ids}|${summarize(items)}`;
  });
}

/** Lines of the full output not already produced (exact match after trim), in order: for resume. */
export function remainingLines(full: readonly string[], alreadyProduced: readonly string[]): string[] {
  const done = new Set(alreadyProduced.map((l) => l.trim()));
  return full.filter((l) => !done.has(l.trim()));
}
