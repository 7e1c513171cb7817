/**
 * Pacing (issue 14, part 2): one start-compute batch with wait per emulated rate limit, each against
 * a fresh principal (a fresh bucket), the function at its default POWER_MAX_RATE unless --fn-env says
 * otherwise. The pacing must find each limit from the same start: the rows are side by side so that a
 * limit it finds slowly, or a spray of 429s at one of them, shows.
 */
import { resolve } from "node:path";
import { type BatchResult, runBatch } from "./batch.js";
import type { Admin } from "./emulator.js";
import { ROOT } from "./functions.js";
import type { Profile } from "./profile.js";

/** Issue 14's targets for every limit. */
export const PACING_TARGETS = {
  /** Wall time ÷ (N ÷ limit + one transition). */
  ratio: 1.2,
  /** 429s ÷ every call of the invocation, %. */
  throttledPercent: 5,
  callsPerInstance: 1.1,
} as const;

export interface PacingRun {
  limitPerSecond: number;
  burst: number;
  batch: BatchResult;
  throttledPercent: number;
  met: { ratio: boolean; throttled: boolean; calls: boolean; allRunning: boolean };
}

export function pacingVerdict(batch: BatchResult): PacingRun["met"] & { throttledPercent: number } {
  const throttledPercent = batch.calls.total === 0 ? 0 : (batch.calls.throttled / batch.calls.total) * 100;
  return {
    throttledPercent,
    ratio: batch.ratioToLowerBound <= PACING_TARGETS.ratio,
    throttled: throttledPercent < PACING_TARGETS.throttledPercent,
    calls: batch.calls.perInstance <= PACING_TARGETS.callsPerInstance,
    allRunning: batch.notRunning === 0 && batch.summary.failed === 0,
  };
}

/**
 * Runs the profile's pacing batches one after another, each with the emulator's rate limit set to
 * its limit (burst = one second's worth, the emulator's default); restores the profile's own limit.
 */
export async function runPacing(opts: {
  admin: Admin;
  url: string;
  bundle: string;
  profile: Profile;
  limits: readonly number[];
  extraEnv: Record<string, string>;
  progress: (msg: string) => void;
}): Promise<PacingRun[]> {
  const { admin, profile } = opts;
  const runs: PacingRun[] = [];
  try {
    for (const limit of opts.limits) {
      const burst = Math.max(1, Math.ceil(limit));
      await admin.setFaults({ rateLimit: { perSecond: limit, burst } });
      const count = profile.pacingCount;
      const label = `pacing: ${count} starts at ${limit}/s`;
      opts.progress(`${label}: running`);
      const batch = await runBatch({
        admin,
        url: opts.url,
        bundle: opts.bundle,
        count,
        form: "compartment_id",
        profile: { ...profile, ratePerSecond: limit, burst },
        extraEnv: opts.extraEnv,
        label,
        logFile: resolve(ROOT, "bench/results/tmp/logs", `${profile.name}-pacing-${limit}.log`),
      });
      const { throttledPercent, ...met } = pacingVerdict(batch);
      opts.progress(
        `${label}: ${(batch.wallMs / 1000).toFixed(1)} s (lower bound ${(batch.lowerBoundMs / 1000).toFixed(1)} s, ` +
          `${batch.ratioToLowerBound.toFixed(2)}×), ${batch.calls.throttled} × 429 (${throttledPercent.toFixed(1)} %), ` +
          `${batch.calls.perInstance.toFixed(3)} calls/instance, ok=${batch.ok}`,
      );
      runs.push({ limitPerSecond: limit, burst, batch, throttledPercent, met });
    }
  } finally {
    await admin.setFaults({ rateLimit: { perSecond: profile.ratePerSecond, burst: profile.burst } });
  }
  return runs;
}
