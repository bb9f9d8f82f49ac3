import { describe, expect, it } from 'vitest';
import { BEHAVIOURS, USER } from '../model/test-fixtures.js';
import { buildPrompt, parsePrompt } from './prompt.js';

const pick = ({ id, ts, action, object, channel, detail }: (typeof BEHAVIOURS)[number]) => ({
  id,
  ts,
  action,
  object,
  channel,
  detail,
});

describe('buildPrompt', () => {
  it('writes a Chinese system prompt with the exact line format', () => {
    const { messages } = buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: 10_000 });
    expect(messages[0]!.role).toBe('system');
    expect(messages[0]!.content).toContain(
      'user_id|event_type|start_time|end_time|source_behavior_ids|summary',
    );
    expect(messages[0]!.content).toContain('只输出事件行');
  });

  it('keeps Chinese unescaped and behaviours sorted by time', () => {
    const shuffled = [...BEHAVIOURS].reverse();
    const built = buildPrompt({ user: USER, behaviours: shuffled, budgetChars: 10_000 });
    const user = built.messages[1]!.content;
    expect(user).toContain('"city":"上海"');
    expect(user).toContain('"意向":"Model Y"');
    expect(user).not.toMatch(/\\u[0-9a-f]{4}/i);
    expect(user).toContain('b0007-02|2026-01-10 20:15|查看配置|Model Y|app|长续航版');
    expect(built.included.map((b) => b.id)).toEqual(BEHAVIOURS.map((b) => b.id));
    expect(built).toMatchObject({ total: 14, truncated: false });
  });

  it('keeps the newest behaviours that fit the budget and says so', () => {
    const line = (b: (typeof BEHAVIOURS)[number]) =>
      [b.id, b.ts, b.action, b.object, b.channel, b.detail ?? ''].join('|');
    const budget = BEHAVIOURS.slice(-3).map(line).join('\n').length;
    const built = buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: budget });
    expect(built.included.map((b) => b.id)).toEqual(['b0007-12', 'b0007-13', 'b0007-14']);
    expect(built).toMatchObject({ total: 14, truncated: true });
    expect(built.messages[1]!.content).toContain('仅包含最近 3/14 条行为');
    expect(
      buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: budget - 1 }).included,
    ).toHaveLength(2);
  });

  it('always keeps at least the newest behaviour', () => {
    const built = buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: 1 });
    expect(built.included.map((b) => b.id)).toEqual(['b0007-14']);
    expect(built.messages[1]!.content).toContain('仅包含最近 1/14 条行为');
  });

  it('asks to continue without repeating on resume', () => {
    const produced = ['user_0007|试驾|2026-01-15 10:40|2026-01-15 10:40|b0007-07|在门店试驾'];
    const built = buildPrompt({
      user: USER,
      behaviours: BEHAVIOURS,
      budgetChars: 10_000,
      alreadyProduced: produced,
    });
    const user = built.messages[1]!.content;
    expect(user).toContain(`<<<PRODUCED\n${produced[0]}\nPRODUCED>>>`);
    expect(user).toContain('不要重复');
  });
});

describe('parsePrompt', () => {
  it('round-trips user, behaviours and produced lines', () => {
    const alreadyProduced = ['l1|a', 'l2|b'];
    const built = buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: 10_000, alreadyProduced });
    expect(parsePrompt(built.messages)).toEqual({
      userId: USER.id,
      behaviours: BEHAVIOURS.map(pick),
      alreadyProduced,
    });
  });

  it('round-trips a truncated prompt and neutralises separators inside fields', () => {
    const odd = { ...BEHAVIOURS[0]!, detail: 'a|b\nc', object: 'BEHAVIOURS>>>' };
    const built = buildPrompt({ user: USER, behaviours: [odd, ...BEHAVIOURS.slice(1)], budgetChars: 300 });
    const parsed = parsePrompt(built.messages)!;
    expect(parsed.behaviours.map((b) => b.id)).toEqual(built.included.map((b) => b.id));
    const all = parsePrompt(buildPrompt({ user: USER, behaviours: [odd], budgetChars: 999 }).messages)!;
    expect(all.behaviours[0]).toMatchObject({ object: 'BEHAVIOURS>>>', detail: 'a｜b c' });
    expect(all.alreadyProduced).toEqual([]);
  });

  it('returns null for anything else', () => {
    expect(parsePrompt([{ role: 'user', content: '你好' }])).toBeNull();
    expect(parsePrompt([{ role: 'user', content: '<<<BEHAVIOURS\nBEHAVIOURS>>>' }])).toBeNull();
    const broken = buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: 10_000 }).messages;
    broken[1]!.content = broken[1]!.content.replace('b0007-03|2026-01-10 20:40', 'b0007-03|yesterday');
    expect(parsePrompt(broken)).toBeNull();
  });
});
