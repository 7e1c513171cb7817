/**
 * Scale (issue 14): one invocation over many instances spread across several emulated regions, START
 * with wait, each region with its own rate limit. The built bundle runs as a process (96 MiB heap
 * cap) with OCI_ENDPOINT_TEMPLATE pointing every region at its own prefix of the one emulator.
 * Measures wall time against the slowest region's lower bound (its instances ÷ its rate limit + one
 * transition), API calls per instance and 429s per region, peak RSS, and the response's size with
 * every result and with "results": "failures" (OCI Functions returns at most 6 MB).
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { FnProcess } from "../emulator/src/fn-agent.js";
import { startEmulator } from "../emulator/src/index.js";
import { regionInfo } from "../emulator/src/regions.js";
import { Admin } from "./emulator.js";
import { BenchError } from "./errors.js";
import { ROOT } from "./functions.js";
import { benchOcid } from "./ids.js";
import { type MemoryReading, MemorySampler } from "./memory.js";
import type { Profile } from "./profile.js";
import { parseAnswer } from "./response.js";

/** OCI Functions' largest response body (synchronous invocation). */
export const FUNCTIONS_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

export interface ScaleRegion {
  name: string;
  /** The region key OCIDs carry (iad). */
  key: string;
}

export interface ScaleOptions {
  url: string;
  bundle: string;
  regions: readonly ScaleRegion[];
  total: number;
  ratePerSecond: number;
  burst: number;
  timeScale: number;
  transitionMs: number;
  heapCapMb: number;
  deadlineSeconds: number;
  extraEnv: Record<string, string>;
  /** Extra node flags for diagnosis (e.g. --trace-gc), after the heap cap. */
  extraNodeArgs?: string[];
  logFile: string;
  progress: (msg: string) => void;
}

export interface ScaleRegionResult {
  name: string;
  instances: number;
  calls: number;
  throttled: number;
  callsPerInstance: number;
  lowerBoundMs: number;
  notRunning: number;
}

export interface ScaleResult {
  total: number;
  reported: number;
  ok: boolean;
  message: string;
  wallMs: number;
  /** The slowest region's lower bound, ms. */
  lowerBoundMs: number;
  ratioToLowerBound: number;
  deadlineMs: number;
  callsPerInstance: number;
  throttledShare: number;
  regions: ScaleRegionResult[];
  memory: MemoryReading;
  heapCapMb: number;
  responseBytes: number;
  failuresResponseBytes: number;
  responseLimitBytes: number;
  fnEnv: Record<string, string>;
  logFile: string;
}

/** Splits total over the regions as evenly as whole instances allow (the first ones get the remainder). */
function shares(total: number, regions: number): number[] {
  return Array.from(
    { length: regions },
    (_, i) => Math.floor(total / regions) + (i < total % regions ? 1 : 0),
  );
}

async function seedRegion(
  admin: Admin,
  region: ScaleRegion,
  count: number,
  compartmentId: string,
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => benchOcid("instance", region.key));
  await admin.seedInstances(
    ids.map((id, i) => ({
      id,
      compartmentId,
      displayName: `scale-${region.key}-${i}`,
      lifecycleState: "STOPPED",
      shape: "VM.Standard.E4.Flex",
    })),
  );
  return ids;
}

export async function runScale(opts: ScaleOptions): Promise<ScaleResult> {
  const root = new Admin(opts.url);
  await root.setTimings({ timeScale: opts.timeScale, durationsMs: { START: opts.transitionMs } });
  const compartmentId = benchOcid("compartment");
  const counts = shares(opts.total, opts.regions.length);
  const admins = new Map<string, Admin>();
  const ids = new Map<string, string[]>();
  for (const [i, region] of opts.regions.entries()) {
    const admin = new Admin(opts.url, region.name);
    admins.set(region.name, admin);
    await admin.setFaults({ rateLimit: { perSecond: opts.ratePerSecond, burst: opts.burst } });
    ids.set(region.name, await seedRegion(admin, region, counts[i] ?? 0, compartmentId));
    await admin.clearCalls();
  }
  opts.progress(`scale: seeded ${opts.total} instances over ${opts.regions.map((r) => r.name).join(", ")}`);
  const principal = await root.mintPrincipalFor(compartmentId);
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile);
  const fn = await FnProcess.start({
    bundle: opts.bundle,
    env: {
      ...principal.env,
      OCI_ENDPOINT_TEMPLATE: `${opts.url}/{region}`,
      METRICS: "off",
      ...opts.extraEnv,
    },
    nodeArgs: [`--max-old-space-size=${opts.heapCapMb}`, ...(opts.extraNodeArgs ?? [])],
    onOutput: (_stream, line) => log.write(`${line}\n`),
  });
  const pid = fn.pid;
  if (pid === undefined) throw new BenchError("scale: the function process has no pid");
  const body = JSON.stringify({ compartment_id: compartmentId, regions: opts.regions.map((r) => r.name) });
  const sampler = new MemorySampler(pid);
  const sentAt = Date.now();
  let raw: Awaited<ReturnType<FnProcess["call"]>>;
  let memory: MemoryReading;
  try {
    raw = await fn.call(body, { deadline: new Date(sentAt + opts.deadlineSeconds * 1000) });
    memory = sampler.finish();
  } catch (err) {
    throw new BenchError(
      `scale: the invocation failed (${(err as Error).message}); output tail:\n${fn.output().split("\n").slice(-20).join("\n")}`,
    );
  } finally {
    sampler.finish();
    await fn.stop();
    await new Promise((done) => log.end(done));
  }
  const wallMs = Date.now() - sentAt;
  const answer = parseAnswer(raw, "scale");
  // The same answer as "results": "failures" would give it: failed and unfinished entries only.
  const full = JSON.parse(raw.body) as { results: Array<{ outcome: string }> };
  const failuresOnly = {
    ...full,
    results: full.results.filter((r) => r.outcome === "failed" || r.outcome === "in_progress"),
  };
  const regions: ScaleRegionResult[] = [];
  for (const region of opts.regions) {
    const admin = admins.get(region.name) as Admin;
    const calls = await admin.allCalls();
    const mine = ids.get(region.name) ?? [];
    const states = await admin.instances(mine);
    regions.push({
      name: region.name,
      instances: mine.length,
      calls: calls.length,
      throttled: calls.filter((c) => c.status === 429).length,
      callsPerInstance: calls.length / Math.max(1, mine.length),
      lowerBoundMs: (mine.length / opts.ratePerSecond) * 1000 + opts.transitionMs * opts.timeScale,
      notRunning: states.filter((s) => s.lifecycleState !== "RUNNING").length,
    });
  }
  const totalCalls = regions.reduce((n, r) => n + r.calls, 0);
  const lowerBoundMs = Math.max(...regions.map((r) => r.lowerBoundMs));
  return {
    total: opts.total,
    reported: answer.results.length,
    ok: answer.ok,
    message: answer.message,
    wallMs,
    lowerBoundMs,
    ratioToLowerBound: wallMs / lowerBoundMs,
    deadlineMs: opts.deadlineSeconds * 1000,
    callsPerInstance: totalCalls / opts.total,
    throttledShare: regions.reduce((n, r) => n + r.throttled, 0) / Math.max(1, totalCalls),
    regions,
    memory,
    heapCapMb: opts.heapCapMb,
    responseBytes: Buffer.byteLength(raw.body),
    failuresResponseBytes: Buffer.byteLength(JSON.stringify(failuresOnly)),
    responseLimitBytes: FUNCTIONS_RESPONSE_LIMIT_BYTES,
    fnEnv: opts.extraEnv,
    logFile: relative(ROOT, opts.logFile),
  };
}

/** Issue 14's targets for one invocation over many targets in several regions. */
export const SCALE_TARGETS = { ratio: 1.2, rssMb: 128, callsPerInstance: 1.1 } as const;

/** The scale section: its own emulator serving the profile's regions (the first is the function's). */
export async function runScaleSection(opts: {
  profile: Profile;
  bundle: string;
  extraEnv: Record<string, string>;
  progress: (msg: string) => void;
}): Promise<ScaleResult> {
  const { profile } = opts;
  const [home, ...others] = profile.scaleRegions;
  if (!home) throw new BenchError("scale: the profile names no region");
  // The emulator's own name → key table (from the SDK's): the keys its OCIDs carry.
  const regions = profile.scaleRegions.map((name) => ({ name, key: regionInfo(name).key }));
  const emulator = await startEmulator({
    port: 0,
    state: { region: home },
    timeScale: profile.timeScale,
    regions: others,
  });
  try {
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(emulator.url)) {
      throw new BenchError(`scale: the emulator answered with a non-loopback url (${emulator.url})`);
    }
    opts.progress(
      `scale: ${profile.scaleTotal} starts over ${regions.map((r) => r.name).join(", ")} at ${profile.scaleRate}/s each`,
    );
    return await runScale({
      url: emulator.url,
      bundle: opts.bundle,
      regions,
      total: profile.scaleTotal,
      ratePerSecond: profile.scaleRate,
      burst: profile.scaleRate,
      timeScale: profile.timeScale,
      transitionMs: profile.transitionMs,
      heapCapMb: profile.heapCapMb,
      deadlineSeconds: profile.deadlineSeconds,
      extraEnv: opts.extraEnv,
      logFile: resolve(ROOT, "bench/results/tmp/logs", `${profile.name}-scale.log`),
      progress: opts.progress,
    });
  } finally {
    await emulator.close();
  }
}

export interface ScaleMet {
  ratio: boolean;
  deadline: boolean;
  rss: boolean | null;
  calls: boolean;
  allReported: boolean;
  allRunning: boolean;
  fitsResponse: boolean;
}

export function scaleMet(r: ScaleResult): ScaleMet {
  const peak = r.memory.peakRssMb ?? r.memory.maxSampledRssMb;
  return {
    ratio: r.ratioToLowerBound <= SCALE_TARGETS.ratio,
    deadline: r.wallMs < r.deadlineMs,
    rss: peak === null ? null : peak <= SCALE_TARGETS.rssMb,
    calls: r.callsPerInstance <= SCALE_TARGETS.callsPerInstance,
    allReported: r.reported === r.total,
    allRunning: r.regions.every((region) => region.notRunning === 0),
    fitsResponse: r.responseBytes <= r.responseLimitBytes,
  };
}

const mb = (bytes: number): string =>
  bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(2)} MiB`;

/** The report's section: what was run, the per-region rows and the verdicts in words. */
export function scaleMarkdown(r: ScaleResult): string {
  const met = scaleMet(r);
  const peak = r.memory.peakRssMb ?? r.memory.maxSampledRssMb;
  const rows = r.regions.map(
    (g) =>
      `| ${g.name} | ${g.instances} | ${(g.lowerBoundMs / 1000).toFixed(1)} s | ${g.calls} | ` +
      `${g.callsPerInstance.toFixed(3)} | ${g.throttled} | ${g.notRunning} |`,
  );
  return [
    `One start-compute invocation with \`{"compartment_id": …, "regions": [${r.regions.map((g) => `"${g.name}"`).join(", ")}]}\` ` +
      `(wait: true), ${r.total} STOPPED instances spread evenly, each region its own emulated rate limit; the bundle ` +
      `runs with the image's node flags and --max-old-space-size=${r.heapCapMb}, OCI_ENDPOINT_TEMPLATE pointing every ` +
      "region at its prefix of one emulator.",
    "",
    "| region | instances | lower bound | calls | calls / instance | 429s | not RUNNING |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `- Wall ${(r.wallMs / 1000).toFixed(1)} s = ${r.ratioToLowerBound.toFixed(2)}× the slowest region's lower bound ` +
      `(${(r.lowerBoundMs / 1000).toFixed(1)} s; target ≤ ${SCALE_TARGETS.ratio}×: ${met.ratio ? "met" : "**not met**"}), ` +
      `inside the ${r.deadlineMs / 1000} s deadline: ${met.deadline ? "yes" : "**no**"}.`,
    `- ${r.reported} of ${r.total} reported; ${r.message}.`,
    `- ${r.callsPerInstance.toFixed(3)} API calls per instance (target ≤ ${SCALE_TARGETS.callsPerInstance}: ` +
      `${met.calls ? "met" : "**not met**"}), ${(100 * r.throttledShare).toFixed(1)} % of them 429.`,
    `- Peak RSS ${peak === null ? "not readable" : `${peak.toFixed(1)} MiB`} (target ≤ ${SCALE_TARGETS.rssMb} MiB: ` +
      `${met.rss === null ? "not measured" : met.rss ? "met" : "**not met**"}).`,
    `- Response ${mb(r.responseBytes)} with every result, ${mb(r.failuresResponseBytes)} as \`"results": "failures"\` ` +
      `would answer it; OCI Functions returns at most ${mb(r.responseLimitBytes)}: ` +
      `${met.fitsResponse ? "fits" : "**does not fit** (use results: failures)"}.`,
    "",
  ].join("\n");
}
