import { expect, it } from 'vitest';
import { runClusterSoak } from '../soak/cluster-soak.js';

// `npm run soak` runs the long version (SOAK_KILLS=200); CI runs the short one.
const kills = Math.max(4, Math.round(Number(process.env.SOAK_KILLS ?? 20) / 2));

it(
  `three instances, one killed -9 at random moments (${kills} times): every frame a client holds is in the log under its seq, every run ends done`,
  async () => {
    const report = await runClusterSoak({
      instances: 3,
      leaseMs: 1000,
      kills,
      concurrentRuns: 6,
      maxGapMs: 1200,
      piecesPerSecond: 400,
      log: process.env.SOAK_VERBOSE ? (l) => console.log(l) : undefined,
    });
    console.log(
      `cluster soak: ${report.kills} kills, ${report.runs} runs, ${report.framesChecked} frames checked; ` +
        `stages hit: ${JSON.stringify(report.stagesHit)}`,
    );
    expect(report.violations).toEqual([]);
    expect(report.kills).toBe(kills);
    expect(report.runs).toBeGreaterThan(kills / 4);
    expect(report.framesChecked).toBeGreaterThan(1000);
  },
  90_000 + kills * 10_000,
);
