import type { Behaviour, Profile, User } from '@app/shared';
import { CAR_MODELS, type CarModel } from './demo-catalog.js';
import { LONG_DAY_CAP, calendar, scheduleDay, spreadCounts, type Session } from './demo-long-plan.js';
import {
  bookingSession,
  deliveryVisit,
  financeSession,
  fleetDeskSession,
  fleetStoreVisit,
  orderSteps,
  researchSession,
  step,
  storeVisit,
  type Interest,
} from './demo-long-sessions.js';
import { Rng } from './prng.js';

/** One long journey: who, over which days, how many behaviours, and what happens on which day. */
interface LongUserSpec {
  n: number;
  /** Each long user has its own random stream, so the short users never change with these. */
  seed: number;
  behaviours: number;
  name: string;
  profile: Profile;
  from: string;
  days: number;
  interest: Interest;
  /** The milestones: sessions on given days (day offsets from `from`). */
  plan(rng: Rng, at: (day: number, s: Session) => void): void;
  /** How busy a day is (0: nothing but its milestones). */
  weight(rng: Rng, day: number, weekday: number): number;
  /** An everyday online sitting of `size` steps on `day`. */
  sitting(rng: Rng, day: number, size: number): Session;
  /** Size range of an everyday sitting. */
  sittingSize: [number, number];
}

const model = (name: string): CarModel => CAR_MODELS.find((m) => m.name === name)!;
const weekend = (wd: number) => wd === 0 || wd === 6;
const online = (steps: Behaviour[]): Session => ({ steps, inStore: false });

const BUYER: Interest = {
  models: [model('理想L6'), model('Model Y'), model('问界M7')],
  stores: ['杭州西湖店', '杭州滨江店'],
};

/** A family buyer who researches for three months, drives three cars, and orders. */
const BROWSER: LongUserSpec = {
  n: 61,
  seed: 610_2025,
  behaviours: 300,
  name: '陈女士',
  profile: {
    city: '杭州',
    gender: '女',
    ageBand: '35-44',
    budget: '25-35万',
    intendedModel: '理想L6',
    source: '小红书',
    firstCar: false,
  },
  from: '2025-12-01',
  days: 90,
  interest: BUYER,
  plan(rng, at) {
    const [l6, my, m7] = BUYER.models as [CarModel, CarModel, CarModel];
    const [west, bin] = BUYER.stores as [string, string];
    const quote = (trim: string, note: string) => `销售报价${trim}，${note}`;
    at(18, bookingSession(rng, l6, west));
    at(20, storeVisit(rng, [l6], west, { drive: true, quote: quote('Pro', '含置换补贴') }));
    at(32, bookingSession(rng, my, bin));
    at(34, storeVisit(rng, [my, m7], bin, { drive: true, quote: quote('长续航版', '送充电桩') }));
    at(47, financeSession(rng, BUYER, 3));
    at(61, storeVisit(rng, [l6, m7], west, { drive: true, quote: quote('Max', '二次报价，含保险') }));
    const order = orderSteps(l6, 'Max', '灰色', 5000, 'store');
    at(
      76,
      storeVisit(rng, [l6], west, {
        drive: false,
        quote: quote('Max', '最终报价，置换补贴 1.5 万'),
        extra: order,
      }),
    );
  },
  weight(rng, day, wd) {
    const active = [0.55, 0.65, 0.7][Math.floor(day / 30)]!;
    if (!rng.chance(active)) return 0;
    return (weekend(wd) ? 1.6 : 1) * (0.5 + rng.next()) * (day > 76 ? 0.4 : 1);
  },
  sitting(rng, day, size) {
    const narrowed: Interest = day < 30 ? { ...BUYER, models: [...BUYER.models, model('小米SU7')] } : BUYER;
    return day >= 30 && rng.chance(0.2)
      ? financeSession(rng, BUYER, size)
      : researchSession(rng, narrowed, size);
  },
  sittingSize: [2, 7],
};

const COMPANY: Interest = {
  models: [model('比亚迪汉EV'), model('小鹏G6'), model('极氪001'), model('问界M7')],
  stores: ['杭州西湖店', '杭州滨江店'],
};

/** A company buying six cars for its staff over five months: weekday desk work, store trips, one contract. */
const COMPANY_BUYER: LongUserSpec = {
  n: 62,
  seed: 620_2025,
  behaviours: 1500,
  name: '周经理（云帆科技）',
  profile: {
    city: '杭州',
    accountType: '企业客户',
    company: '云帆科技',
    fleetSize: 6,
    budget: '150-200万',
    intendedModel: '比亚迪汉EV',
    source: '大客户渠道',
  },
  from: '2025-10-01',
  days: 151,
  interest: COMPANY,
  plan(rng, at) {
    const han = COMPANY.models[0]!;
    at(9, online([step('询价', han.name, 'phone', '企业采购 6 台，询问团购政策')]));
    for (const [day, store] of [
      [22, COMPANY.stores[0]!],
      [36, COMPANY.stores[1]!],
      [57, COMPANY.stores[0]!],
    ] as const) {
      at(day - 2, bookingSession(rng, han, store));
      at(day, fleetStoreVisit(rng, COMPANY, store, 6));
    }
    at(71, financeSession(rng, COMPANY, 4));
    const contract = [
      step('签约', han.name, 'store', '采购合同 6 台，冠军版，白色'),
      step('支付定金', han.name, 'app', '定金 30000 元'),
    ];
    at(
      91,
      storeVisit(rng, [han], COMPANY.stores[0]!, { drive: false, quote: '合同价确认', extra: contract }),
    );
    at(122, deliveryVisit(rng, han, COMPANY.stores[0]!, 6));
  },
  weight(rng, _day, wd) {
    if (!rng.chance(weekend(wd) ? 0.1 : 0.85)) return 0;
    return 0.5 + rng.next();
  },
  sitting: (rng, _day, size) => fleetDeskSession(rng, COMPANY, size),
  sittingSize: [3, 10],
};

const FLEET: Interest = {
  models: [model('比亚迪汉EV'), model('小鹏G6'), model('Model Y'), model('极氪001'), model('小米SU7')],
  stores: ['深圳南山店', '深圳福田店'],
};

/** A ride-hailing fleet's dealer account: all day online, store days every week, an order every month. */
const FLEET_ACCOUNT: LongUserSpec = {
  n: 63,
  seed: 630_2025,
  behaviours: 5000,
  name: '鹏程出行车队',
  profile: {
    city: '深圳',
    accountType: '车队/经销商账户',
    company: '鹏程出行',
    fleetSize: 300,
    budget: '500万以上',
    intendedModel: '比亚迪汉EV',
    source: '大客户渠道',
  },
  from: '2025-09-01',
  days: 181,
  interest: FLEET,
  plan(rng, at) {
    for (let week = 0; week < 25; week++) {
      const day = week * 7 + rng.int(1, 4);
      const store = rng.pick(FLEET.stores);
      at(day - 1, bookingSession(rng, FLEET.models[0]!, store));
      at(day, fleetStoreVisit(rng, FLEET, store, rng.int(10, 40)));
    }
    for (let month = 0; month < 5; month++) {
      const car = rng.pick(FLEET.models.slice(0, 3));
      const qty = rng.int(10, 30);
      const day = month * 30 + 20;
      const contract = [
        step('签约', car.name, 'store', `批量订购 ${qty} 台，${rng.pick(car.trims)}`),
        step('支付定金', car.name, 'app', `定金 ${qty * 2000} 元`),
      ];
      at(
        day,
        storeVisit(rng, [car], FLEET.stores[0]!, { drive: false, quote: '合同价确认', extra: contract }),
      );
      at(day + 16, deliveryVisit(rng, car, FLEET.stores[0]!, qty));
    }
  },
  weight(rng, day, wd) {
    if (!rng.chance(weekend(wd) ? 0.6 : 0.97)) return 0;
    // Month ends and promotion days bring bursts of quotes and paperwork.
    const burst = day % 30 >= 27 || rng.chance(0.08) ? 2.5 : 1;
    return (weekend(wd) ? 0.5 : 1) * (0.6 + rng.next()) * burst;
  },
  sitting: (rng, _day, size) => fleetDeskSession(rng, FLEET, size),
  sittingSize: [2, 10],
};

/** The long-history demo users, in id order. */
export const LONG_USERS: readonly LongUserSpec[] = [BROWSER, COMPANY_BUYER, FLEET_ACCOUNT];

/** One long user's behaviours: milestones first, everyday sittings spread over the days, capped per day. */
function generateLongUser(spec: LongUserSpec): { user: User; behaviours: Behaviour[] } {
  const rng = new Rng(spec.seed);
  const milestones: Session[][] = Array.from({ length: spec.days }, () => []);
  spec.plan(rng, (day, s) => {
    // A second store visit on one day moves to the next free day.
    let d = day;
    while (s.inStore && milestones[d]!.some((x) => x.inStore)) d++;
    milestones[d]!.push(s);
  });
  const fixed = milestones.map((ss) => ss.reduce((n, s) => n + s.steps.length, 0));
  const days = calendar(spec.from, spec.days);
  const weights = days.map((day, d) => spec.weight(rng, d, day.weekday));
  const caps = fixed.map((n) => LONG_DAY_CAP - n);
  const counts = spreadCounts(spec.behaviours - fixed.reduce((a, b) => a + b, 0), weights, caps);
  const num = String(spec.n).padStart(4, '0');
  const userId = `user_${num}`;
  const behaviours: Behaviour[] = [];
  counts.forEach((count, d) => {
    const sessions = [...milestones[d]!];
    for (let left = count; left > 0;) {
      const size = Math.min(left, rng.int(...spec.sittingSize));
      sessions.push(spec.sitting(rng, d, size));
      left -= size;
    }
    scheduleDay(rng, days[d]!.date, sessions, behaviours);
  });
  for (let i = 0; i < behaviours.length; i++) {
    behaviours[i]!.id = `b${num}-${String(i + 1).padStart(4, '0')}`;
    behaviours[i]!.userId = userId;
  }
  return { user: { id: userId, name: spec.name, profile: spec.profile }, behaviours };
}

/** The long-history demo users (user_0061 … user_0063: 300, 1,500 and 5,000 behaviours over months). */
export function generateLongDemoData(): { users: User[]; behaviours: Behaviour[] } {
  const all = LONG_USERS.map(generateLongUser);
  return { users: all.map((x) => x.user), behaviours: all.flatMap((x) => x.behaviours) };
}
