import type { Behaviour } from '@app/shared';
import {
  FINANCE_DETAILS,
  INTERESTS,
  ONLINE_CHANNELS,
  PAGES,
  TEST_DRIVE_DETAILS,
  VIEW_DETAILS,
  type CarModel,
} from './demo-catalog.js';
import { Rng } from './prng.js';

export type Step = Omit<Behaviour, 'id' | 'userId' | 'ts'>;
/** Steps done on one day; store visits happen in opening hours. */
export interface DayGroup {
  steps: Step[];
  inStore: boolean;
}

const LAST_DAY = 58; // 2026-01-01 + 58 days = 2026-02-28

const step = (action: string, object: string, channel: string, detail: string | null): Step => ({
  action,
  object,
  channel,
  detail,
});

/** A buyer's steps up to `stage` (0 research … 5 deposit), grouped by day; about `target` steps (6–30). */
export function journey(
  rng: Rng,
  stage: number,
  main: CarModel,
  alt: CarModel,
  store: string,
  target: number,
) {
  const online = () => rng.pick(ONLINE_CHANNELS);
  const trim = rng.pick(main.trims);
  const car = main.name;
  const fixed: DayGroup[] = [];
  if (stage >= 1) {
    const inquiry = [step('询价', car, rng.pick(['phone', 'wechat', 'app']), `询问${trim}落地价`)];
    if (rng.chance(0.7))
      inquiry.push(step('咨询金融方案', PAGES.finance, online(), rng.pick(FINANCE_DETAILS)));
    fixed.push({ steps: inquiry, inStore: false });
  }
  if (stage >= 2) {
    const booking = step('预约试驾', car, rng.pick(['app', 'phone', 'wechat']), `门店: ${store}`);
    fixed.push({
      steps: [step('浏览车型', PAGES.store, online(), `查看门店: ${store}`), booking],
      inStore: false,
    });
  }
  if (stage >= 3) {
    const visit = [
      step('到店', car, 'store', `门店: ${store}`),
      step('看车', car, 'store', rng.pick(VIEW_DETAILS)),
      step('试驾', car, 'store', rng.pick(TEST_DRIVE_DETAILS)),
      step('询价', car, 'store', `销售报价${trim}，含置换补贴`),
    ];
    if (rng.chance(0.4)) visit.splice(2, 0, step('看车', alt.name, 'store', '顺便看了竞品展车'));
    fixed.push({ steps: visit, inStore: true });
  }
  if (stage >= 4) {
    const colour = rng.pick(['白色', '灰色', '蓝色', '黑色']);
    const order = [step('下单', car, rng.pick(['store', 'app']), `${trim}，${colour}`)];
    if (stage >= 5) order.push(step('支付定金', car, 'app', `定金 ${rng.pick([2000, 5000, 10000])} 元`));
    // Half the buyers order on the spot, the rest after thinking it over.
    if (rng.chance(0.5)) fixed[fixed.length - 1]!.steps.push(...order);
    else fixed.push({ steps: order, inStore: false });
  }
  const fixedCount = fixed.reduce((n, g) => n + g.steps.length, 0);
  const research = researchSteps(rng, main, alt, Math.min(30 - fixedCount, Math.max(target - fixedCount, 3)));
  const groups: DayGroup[] = [];
  while (research.length > 0) groups.push({ steps: research.splice(0, rng.int(2, 5)), inStore: false });
  // A lone step joins the day before it, so every active day has several behaviours.
  return [...groups, ...fixed].reduce<DayGroup[]>((days, g) => {
    const prev = days[days.length - 1];
    if (prev && g.steps.length === 1) prev.steps.push(...g.steps);
    else days.push(g);
    return days;
  }, []);
}

function researchSteps(rng: Rng, main: CarModel, alt: CarModel, count: number): Step[] {
  const online = () => rng.pick(ONLINE_CHANNELS);
  const steps = [step('浏览车型', PAGES.home, online(), '从首页进入车型列表')];
  while (steps.length < count) {
    const model = rng.chance(0.7) ? main : alt;
    const other = model === main ? alt : main;
    steps.push(
      rng.pick([
        step('浏览车型', model.name, online(), `停留 ${rng.int(1, 12)} 分钟`),
        step('查看配置', model.name, online(), `${rng.pick(model.trims)}，${rng.pick(INTERESTS)}`),
        step('对比车型', model.name, online(), `对比 ${other.name}`),
        step('浏览车型', model.name, online(), null),
      ]),
    );
  }
  return steps;
}

/** Gives each day group a date (in order, within Jan–Feb 2026) and each step a minute, minutes apart. */
export function scheduleGroups(rng: Rng, groups: DayGroup[]): Omit<Behaviour, 'id' | 'userId'>[] {
  const gaps = groups.map((_, i) => (i === 0 ? 0 : rng.int(1, 4)));
  while (gaps.reduce((a, b) => a + b, 0) > LAST_DAY) gaps[gaps.indexOf(Math.max(...gaps))]! -= 1;
  let day = rng.int(0, LAST_DAY - gaps.reduce((a, b) => a + b, 0));
  const out: Omit<Behaviour, 'id' | 'userId'>[] = [];
  groups.forEach((g, i) => {
    day += gaps[i]!;
    const offsets = g.steps.map(() => rng.int(g.inStore ? 10 : 2, g.inStore ? 40 : 25));
    const span = offsets.reduce((a, b) => a + b, 0);
    let minute = rng.int(g.inStore ? 10 * 60 : 8 * 60, (g.inStore ? 18 * 60 : 22 * 60) - span);
    const date = new Date(Date.UTC(2026, 0, 1 + day)).toISOString().slice(0, 10);
    g.steps.forEach((s, j) => {
      if (j > 0) minute += offsets[j]!;
      out.push({ ...s, ts: `${date} ${hhmm(minute)}` });
    });
  });
  return out;
}

const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
