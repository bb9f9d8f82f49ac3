import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BEHAVIOUR_ID_RE, MINUTE_TIME_RE, USER_ID_RE } from '@app/shared';
import { openDatabase } from '../db/open-database.js';
import { UsersRepo } from '../db/users-repo.js';
import { demoDataset, generateDemoData, loadDemoDataIfEmpty } from './demo-data.js';
import { normaliseTs } from './import-rows.js';

describe('generateDemoData', () => {
  const data = generateDemoData();

  it('is deterministic for a seed and varies with it', () => {
    expect(generateDemoData()).toEqual(data);
    expect(generateDemoData({ seed: 1 })).toEqual(generateDemoData({ seed: 1 }));
    expect(generateDemoData({ seed: 1 })).not.toEqual(data);
  });

  it('stays byte-identical: tests and browser tests rely on these 60 journeys', () => {
    const digest = createHash('sha256').update(JSON.stringify(data)).digest('hex');
    expect(digest).toBe('585d94c4dc3ecb2422777b7e14ba3c07b53b552977baffd8a77eadbb819a2c22');
  });

  it('has 60 users by default, user_0007 among them with a rich journey', () => {
    expect(data.users.length).toBeGreaterThanOrEqual(50);
    expect(data.users.map((u) => u.id).slice(0, 3)).toEqual(['user_0001', 'user_0002', 'user_0003']);
    const u7 = data.users.find((u) => u.id === 'user_0007');
    expect(u7?.name).toMatch(/先生|女士/);
    expect(u7?.profile).toMatchObject({ city: expect.any(String), budget: expect.stringContaining('万') });
    const actions = data.behaviours.filter((b) => b.userId === 'user_0007').map((b) => b.action);
    expect(actions.length).toBeGreaterThanOrEqual(8);
    expect(actions).toEqual(expect.arrayContaining(['到店', '试驾']));
  });

  it('makes valid ids and times, sorted per user, 6–30 behaviours each, all in Jan–Feb 2026 08:00–22:00', () => {
    const ids = new Set<string>();
    for (const u of data.users) {
      expect(u.id).toMatch(USER_ID_RE);
      const mine = data.behaviours.filter((b) => b.userId === u.id);
      expect(mine.length).toBeGreaterThanOrEqual(6);
      expect(mine.length).toBeLessThanOrEqual(30);
      const times = mine.map((b) => b.ts);
      expect(times).toEqual([...times].sort());
      expect(new Set(times).size).toBe(times.length);
      const perDay = new Map<string, number>();
      for (const t of times) perDay.set(t.slice(0, 10), (perDay.get(t.slice(0, 10)) ?? 0) + 1);
      for (const n of perDay.values()) expect(n).toBeGreaterThanOrEqual(2);
      for (const b of mine) {
        expect(b.id).toMatch(BEHAVIOUR_ID_RE);
        expect(b.id).toMatch(new RegExp(`^b${u.id.slice(5)}-\\d{2,3}$`));
        expect(b.ts).toMatch(MINUTE_TIME_RE);
        expect(normaliseTs(b.ts)).toEqual({ ts: b.ts });
        expect(b.ts).toMatch(/^2026-0[12]-/);
        expect(b.ts.slice(11) >= '08:00' && b.ts.slice(11) <= '22:00').toBe(true);
        expect(['app', 'web', 'store', 'phone', 'wechat']).toContain(b.channel);
        ids.add(b.id);
      }
    }
    expect(ids.size).toBe(data.behaviours.length);
  });

  it('follows the funnel: some users order, not all, and orders come after a visit or a test-drive booking', () => {
    const ordered = data.users.filter((u) =>
      data.behaviours.some((b) => b.userId === u.id && b.action === '下单'),
    );
    expect(ordered.length).toBeGreaterThan(0);
    expect(ordered.length).toBeLessThan(data.users.length / 2);
    for (const u of ordered) {
      const actions = data.behaviours.filter((b) => b.userId === u.id).map((b) => b.action);
      expect(actions.indexOf('预约试驾')).toBeLessThan(actions.indexOf('下单'));
      expect(actions.indexOf('到店')).toBeLessThan(actions.indexOf('下单'));
    }
  });
});

describe('loadDemoDataIfEmpty', () => {
  it('loads into an empty database only', async () => {
    const db = openDatabase(':memory:');
    const repo = new UsersRepo(db);
    const first = await loadDemoDataIfEmpty(repo);
    const all = demoDataset();
    expect(first).toEqual({ loaded: true, users: 63, behaviours: all.behaviours.length });
    expect(await repo.count()).toBe(63);
    expect(await repo.behaviours('user_0007')).toEqual(
      all.behaviours.filter((b) => b.userId === 'user_0007'),
    );
    expect(await repo.behaviours('user_0063')).toHaveLength(5000);
    expect(await loadDemoDataIfEmpty(repo)).toEqual({ loaded: false, users: 0, behaviours: 0 });
    db.close();
  });
});
