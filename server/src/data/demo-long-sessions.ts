import type { Behaviour } from '@app/shared';
import {
  FINANCE_DETAILS,
  INTERESTS,
  ONLINE_CHANNELS,
  PAGES,
  TEST_DRIVE_DETAILS,
  VIEW_DETAILS,
} from './demo-catalog.js';
import type { CarModel } from './demo-catalog.js';
import type { Session } from './demo-long-plan.js';
import type { Rng } from './prng.js';

/** What the sittings of one long journey are about: the models in play and where the buyer goes. */
export interface Interest {
  /** Models considered, the favourite first. */
  models: readonly CarModel[];
  stores: readonly string[];
}

/** A behaviour still without `id`, `userId` and `ts` (set once its place in the history is known). */
export const step = (action: string, object: string, channel: string, detail: string | null): Behaviour => ({
  id: '',
  userId: '',
  action,
  object,
  channel,
  detail,
  ts: '',
});

const online = (s: Behaviour[]): Session => ({ steps: s, inStore: false });
const OPTIONS = ['轮毂', '内饰', '辅助驾驶包', '颜色'];

/** The favourite most of the time, the others now and then. */
function someModel(rng: Rng, interest: Interest): CarModel {
  return rng.chance(0.55) ? interest.models[0]! : rng.pick(interest.models);
}

/** One online research sitting of `size` steps: browsing, configurations, comparisons, live streams. */
export function researchSession(rng: Rng, interest: Interest, size: number): Session {
  const ch = rng.pick(ONLINE_CHANNELS);
  const steps: Behaviour[] = [];
  if (size >= 3 && rng.chance(0.3)) steps.push(step('浏览车型', PAGES.home, ch, '从首页进入车型列表'));
  while (steps.length < size) steps.push(researchStep(rng, interest, ch));
  return online(steps);
}

// Only the step picked is built: this runs thousands of times at every first start.
function researchStep(rng: Rng, interest: Interest, ch: string): Behaviour {
  const m = someModel(rng, interest);
  switch (rng.int(0, 5)) {
    case 0:
      return step('浏览车型', m.name, ch, `停留 ${rng.int(1, 12)} 分钟`);
    case 1:
      return step('浏览车型', m.name, ch, null);
    case 2:
      return step('查看配置', m.name, ch, `${rng.pick(m.trims)}，${rng.pick(INTERESTS)}`);
    case 3:
      return step('查看配置', m.name, ch, `${rng.pick(m.trims)} 选装${rng.pick(OPTIONS)}`);
    case 4: {
      const other = rng.pick(interest.models.filter((x) => x !== m));
      return step('对比车型', m.name, ch, `对比 ${other?.name ?? m.name}`);
    }
    default:
      return step('观看直播', m.name, ch, `${m.name} 直播讲解 ${rng.int(5, 40)} 分钟`);
  }
}

/** Asking about money online or by phone: finance plans, trade-in, a price. */
export function financeSession(rng: Rng, interest: Interest, size: number): Session {
  const car = interest.models[0]!;
  const steps: Behaviour[] = [];
  while (steps.length < size) {
    const roll = rng.next();
    if (roll < 0.4)
      steps.push(step('咨询金融方案', PAGES.finance, rng.pick(ONLINE_CHANNELS), rng.pick(FINANCE_DETAILS)));
    else if (roll < 0.75)
      steps.push(
        step('询价', car.name, rng.pick(['phone', 'wechat', 'app']), `询问${rng.pick(car.trims)}落地价`),
      );
    else steps.push(step('查看配置', car.name, 'app', `计算器：${rng.pick(car.trims)} 月供`));
  }
  return online(steps);
}

/** Looks up a store, then books a test drive there. */
export function bookingSession(rng: Rng, car: CarModel, store: string): Session {
  return online([
    step('浏览车型', PAGES.store, rng.pick(ONLINE_CHANNELS), `查看门店: ${store}`),
    step('预约试驾', car.name, rng.pick(['app', 'phone', 'wechat']), `门店: ${store}`),
  ]);
}

/** A store visit: arrive, look at the cars, maybe drive one, get a quote; `extra` steps end the visit. */
export function storeVisit(
  rng: Rng,
  cars: readonly CarModel[],
  store: string,
  opts: { drive: boolean; quote: string | null; extra?: Behaviour[] },
): Session {
  const steps = [step('到店', cars[0]!.name, 'store', `门店: ${store}`)];
  for (const car of cars) steps.push(step('看车', car.name, 'store', rng.pick(VIEW_DETAILS)));
  if (opts.drive) steps.push(step('试驾', cars[0]!.name, 'store', rng.pick(TEST_DRIVE_DETAILS)));
  if (opts.quote) steps.push(step('询价', cars[0]!.name, 'store', opts.quote));
  steps.push(...(opts.extra ?? []));
  return { steps, inStore: true };
}

/** Ordering a car (and paying the deposit) online, or as the `extra` of a store visit. */
export function orderSteps(
  car: CarModel,
  trim: string,
  colour: string,
  deposit: number,
  channel = 'app',
): Behaviour[] {
  return [
    step('下单', car.name, channel, `${trim}，${colour}`),
    step('支付定金', car.name, 'app', `定金 ${deposit} 元`),
  ];
}

/** A fleet desk's online sitting: bulk quotes, paperwork, order tracking, mixed with research. */
export function fleetDeskSession(rng: Rng, interest: Interest, size: number): Session {
  const steps: Behaviour[] = [];
  while (steps.length < size) {
    const roll = rng.next();
    const m = someModel(rng, interest);
    if (roll < 0.55) steps.push(researchStep(rng, interest, rng.pick(ONLINE_CHANNELS)));
    else if (roll < 0.7)
      steps.push(step('询价', m.name, rng.pick(['phone', 'wechat']), `批量 ${rng.int(5, 40)} 台报价`));
    else if (roll < 0.8)
      steps.push(step('咨询金融方案', PAGES.finance, 'web', `融资租赁 ${rng.pick([24, 36, 48])} 期`));
    else if (roll < 0.9) steps.push(step('跟进交付', '订单中心', 'web', `跟进 ${rng.int(1, 12)} 台交付进度`));
    else steps.push(step('上传资料', '企业资质', 'web', rng.pick(['营业执照', '运输许可证', '司机名单'])));
  }
  return online(steps.slice(0, size));
}

/** A fleet's store day: drivers test several cars, then the account manager quotes for the batch. */
export function fleetStoreVisit(rng: Rng, interest: Interest, store: string, qty: number): Session {
  const cars = rng.sample(interest.models, rng.int(1, Math.min(3, interest.models.length)));
  const road = () => rng.pick(['城市道路', '含高速段', '满载测试']);
  const drives = cars.map((c) => step('试驾', c.name, 'store', `司机试驾 ${rng.int(2, 6)} 人次，${road()}`));
  const quote = step('询价', cars[0]!.name, 'store', `团购报价 ${qty} 台，含上牌`);
  return storeVisit(rng, cars, store, { drive: false, quote: null, extra: [...drives, quote] });
}

/** Collecting delivered cars at a store: check them over, sign, drive away. */
export function deliveryVisit(rng: Rng, car: CarModel, store: string, qty: number): Session {
  return {
    steps: [
      step('到店', car.name, 'store', `门店: ${store}`),
      step('验车', car.name, 'store', `${qty} 台，${rng.pick(['外观无损', '补贴膜后验收', '核对车架号'])}`),
      step('提车', car.name, 'store', `交付 ${qty} 台`),
    ],
    inStore: true,
  };
}
