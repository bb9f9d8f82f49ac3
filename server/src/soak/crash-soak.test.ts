import { expect, it } from 'vitest';
import { runCrashSoak } from './crash-soak.js';

// `npm run soak` runs the long version (SOAK_KILLS=200); CI runs the short one.
const kills = Number(process.env.SOAK_KILLS ?? 20);

it(
  `kill -9 at random moments (${kills} times): every frame a client holds is in the log under its seq`,
  async () => {
    const report = await runCrashSoak({
      kills,
      concurrentRuns: 4,
      maxGapMs: 1200,
      piecesPerSecond: 400,
      log: process.env.SOAK_VERBOSE ? (l) => console.log(l) : undefined,
    });
    console.log(
      `crash soak: ${report.kills} kills, ${report.runs} runs, ${report.framesChecked} frames checked; ` +
        `stages hit: ${JSON.stringify(report.stagesHit)}`,
    );
    expect(report.violations).toEqual([]);
    expect(report.kills).toBe(kills);
    expect(report.runs).toBeGreaterThan(kills / 4);
    expect(report.framesChecked).toBeGreaterThan(1000);
  },
  60_000 + kills * 8_000,
);
