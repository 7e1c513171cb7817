/** What a run measures: the full benchmark (issue 7) or the quick one CI runs so the code cannot rot. */

export interface Profile {
  name: "full" | "quick";
  /** Measured cold starts per variant (after one discarded warm-up round), interleaved. */
  coldStartRuns: number;
  /** Instance counts for the batch chart, ascending; the last one is the headline batch. */
  batchCounts: number[];
  /** Instances the seed-style loop walks through one after another; extrapolated linearly. */
  seedLoopInstances: number;
  /** Also run the headline batch with `instance_ids` (besides `compartment_id`). */
  idsForm: boolean;
  /** Emulator time scale: 0.1 turns OCI's 60 s into 6 s. */
  timeScale: number;
  /** START transition in OCI time. */
  transitionMs: number;
  /** The seed's fixed poll sleep in OCI time (scaled like the transition). */
  seedSleepMs: number;
  /** Emulator rate limit per principal; beyond it: 429. */
  ratePerSecond: number;
  burst: number;
  /** Pacing (issue 14): one batch of pacingCount starts per emulated rate limit (calls/s). */
  pacingLimits: number[];
  pacingCount: number;
  /** Scale (issue 14): one invocation over scaleTotal starts spread over scaleRegions, each limited to scaleRate calls/s. */
  scaleTotal: number;
  scaleRate: number;
  scaleRegions: readonly string[];
  /** Heap cap of the function process, as a 128 MB function would run. */
  heapCapMb: number;
  /** Fn-Deadline of a batch invocation (OCI's synchronous maximum). */
  deadlineSeconds: number;
  outDir: string;
}

const COMMON = {
  timeScale: 0.1,
  transitionMs: 60_000,
  seedSleepMs: 10_000,
  ratePerSecond: 20,
  burst: 20,
  heapCapMb: 96,
  deadlineSeconds: 300,
  scaleRegions: ["us-ashburn-1", "us-phoenix-1", "eu-frankfurt-1"],
} as const;

export const FULL: Profile = {
  ...COMMON,
  name: "full",
  coldStartRuns: 20,
  batchCounts: [1, 10, 100, 500, 1000],
  seedLoopInstances: 8,
  idsForm: true,
  pacingLimits: [10, 20, 50, 100],
  pacingCount: 1000,
  scaleTotal: 10_000,
  scaleRate: 20,
  outDir: "bench/results",
};

export const QUICK: Profile = {
  ...COMMON,
  name: "quick",
  coldStartRuns: 5,
  batchCounts: [1, 20, 200],
  seedLoopInstances: 2,
  idsForm: false,
  pacingLimits: [50],
  pacingCount: 500,
  // 500 per region: the first overshoot's ~10 429s per region weigh 2 % (at 200 they made 1.115 calls/instance).
  scaleTotal: 1500,
  scaleRate: 50,
  outDir: "bench/results/quick",
};
