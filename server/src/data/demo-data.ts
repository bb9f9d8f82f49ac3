import type { Behaviour, User } from '@app/shared';
import type { UsersStore } from '../store/types.js';
import { AGE_BANDS, CAR_MODELS, CITIES, SOURCES, SURNAMES } from './demo-catalog.js';
import { journey, scheduleGroups } from './demo-journey.js';
import { generateLongDemoData } from './demo-long-users.js';
import { Rng } from './prng.js';

/** How far down the funnel a buyer gets: 0 research … 5 paid a deposit. */
const STAGE_CUTS = [0.2, 0.45, 0.6, 0.82, 0.87];
const RICH_USER = 7;

/** Deterministic demo users with realistic car-buying journeys in 2026-01 and 2026-02. */
export function generateDemoData(opts: { users?: number; seed?: number } = {}): {
  users: User[];
  behaviours: Behaviour[];
} {
  const rng = new Rng(opts.seed ?? 20260115);
  const users: User[] = [];
  const behaviours: Behaviour[] = [];
  for (let n = 1; n <= (opts.users ?? 60); n++) {
    const num = String(n).padStart(4, '0');
    const main = rng.pick(CAR_MODELS);
    const alt = rng.pick(CAR_MODELS.filter((m) => m !== main));
    const { city, districts } = rng.pick(CITIES);
    const store = `${city}${rng.pick(districts)}店`;
    const male = rng.chance(0.62);
    const profile = {
      city,
      gender: male ? '男' : '女',
      ageBand: rng.pick(AGE_BANDS),
      budget: main.budget,
      intendedModel: main.name,
      source: rng.pick(SOURCES),
      firstCar: rng.chance(0.4),
    };
    users.push({ id: `user_${num}`, name: `${rng.pick(SURNAMES)}${male ? '先生' : '女士'}`, profile });
    const rich = n === RICH_USER;
    const roll = rng.next();
    const stage = rich ? 5 : STAGE_CUTS.filter((cut) => roll >= cut).length;
    const groups = journey(rng, stage, main, alt, store, rich ? 18 : rng.int(6, 30));
    scheduleGroups(rng, groups).forEach((s, i) =>
      behaviours.push({ id: `b${num}-${String(i + 1).padStart(2, '0')}`, userId: `user_${num}`, ...s }),
    );
  }
  return { users, behaviours };
}

/** Everything an empty database gets: the 60 short journeys, then the long-history users. */
export function demoDataset(): { users: User[]; behaviours: Behaviour[] } {
  const short = generateDemoData();
  const long = generateLongDemoData();
  return { users: [...short.users, ...long.users], behaviours: [...short.behaviours, ...long.behaviours] };
}

/** Loads the demo users only into an empty users table; counts are 0 when nothing was loaded. */
export async function loadDemoDataIfEmpty(
  repo: UsersStore,
): Promise<{ loaded: boolean; users: number; behaviours: number }> {
  if ((await repo.count()) > 0) return { loaded: false, users: 0, behaviours: 0 };
  const data = demoDataset();
  try {
    const written = await repo.upsertAll(data.users, data.behaviours);
    return { loaded: true, ...written };
  } catch (err) {
    // Instances starting together on one empty database: one of them loads it, the others find it loaded.
    if (repo.imports.isConflict(err) && (await repo.count()) > 0)
      return { loaded: false, users: 0, behaviours: 0 };
    throw err;
  }
}
