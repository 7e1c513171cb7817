/**
 * `npm run bench` (full) or `npm run bench -- --quick` (CI): cold start, memory, batches with the
 * seed-style baseline, API calls, wait overhead and bundle size, side by side in one run.
 * Writes <outDir>/latest.md, latest.json and batch.svg. Benchmarks are not tests: missed targets are
 * reported, not failed; the exit code is 1 only when a run errored (a crash, a refused or failed run,
 * a missing piece).
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { relative, resolve } from "node:path";
import { type BatchResult, runBatch } from "./batch.js";
import { measureBundle } from "./bundle-size.js";
import { batchChartSvg } from "./chart.js";
import { bareCheck, functionVariantCheck, measureColdStart } from "./cold-start.js";
import { type BenchEmulator, startBenchEmulator } from "./emulator.js";
import { BenchError } from "./errors.js";
import { BARE_FDK, BUNDLES, buildUnbundled, ROOT, requireBundles } from "./functions.js";
import { benchOcid } from "./ids.js";
import { runMixedKinds } from "./mixed-kinds.js";
import { runPacing } from "./pacing.js";
import { FULL, type Profile, QUICK } from "./profile.js";
import { type BenchReport, headline, type Machine, markdown, pacingMarkdown, verdicts } from "./report.js";
import { runScaleSection, type ScaleResult, scaleMarkdown, scaleMet } from "./scale.js";
import { runSeedLoop } from "./seed-loop.js";

const USAGE = `usage: npm run bench [-- --quick] [-- --fn-env KEY=VALUE ...] [-- --only pacing [--pacing-limits 50,100] | --only scale]
  --quick               fewer runs and smaller batches (< 3 min); writes bench/results/quick/
  --fn-env KEY=VALUE    extra function config for the batch runs (e.g. POWER_MAX_RATE=20); repeatable
  --only pacing         only the pacing section; writes bench/results/tmp/pacing-<profile>.md and .json
                        (never latest.md: that is the whole bench's)
  --pacing-limits L,... the emulated rate limits of the pacing section (default: the profile's)
  --only scale          only the scale section (one invocation over many targets in 3 emulated regions);
                        writes bench/results/tmp/scale-<profile>.md and .json`;

const FN_ENV_KEYS = /^(POWER_[A-Z_]+|ALLOWED_COMPARTMENT_IDS)$/;

interface Args {
  profile: Profile;
  fnEnv: Record<string, string>;
  only: "pacing" | "scale" | undefined;
  pacingLimits: number[] | undefined;
}

function parseLimits(raw: string): number[] {
  const limits = raw.split(",").map((part) => Number(part.trim()));
  if (limits.length === 0 || limits.some((l) => !Number.isFinite(l) || l <= 0 || l > 1000)) {
    throw new BenchError(`--pacing-limits wants calls/s from 1 to 1000, comma-separated\n${USAGE}`);
  }
  return limits;
}

function parseArgs(argv: string[]): Args {
  let profile = FULL;
  const fnEnv: Record<string, string> = {};
  let only: Args["only"];
  let pacingLimits: number[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") profile = QUICK;
    else if (arg === "--fn-env") {
      const kv = argv[++i] ?? "";
      const eq = kv.indexOf("=");
      const key = kv.slice(0, eq);
      if (eq < 1 || !FN_ENV_KEYS.test(key))
        throw new BenchError(`--fn-env wants KEY=VALUE (POWER_*)\n${USAGE}`);
      fnEnv[key] = kv.slice(eq + 1);
    } else if (arg === "--only") {
      const section = argv[++i];
      if (section !== "pacing" && section !== "scale")
        throw new BenchError(`--only knows two sections: pacing, scale\n${USAGE}`);
      only = section;
    } else if (arg === "--pacing-limits") {
      pacingLimits = parseLimits(argv[++i] ?? "");
    } else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new BenchError(`unknown argument ${arg}\n${USAGE}`);
  }
  return { profile, fnEnv, only, pacingLimits };
}

function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function machine(): Machine {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  return {
    node: process.versions.node,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    loadavgStart: loadavg(),
    loadavgEnd: [],
    commit,
  };
}

async function scaleSection(args: Args): Promise<ScaleResult> {
  const scale = await runScaleSection({
    profile: args.profile,
    bundle: BUNDLES["start-compute"],
    extraEnv: args.fnEnv,
    progress,
  });
  const peak = scale.memory.peakRssMb ?? scale.memory.maxSampledRssMb;
  progress(
    `scale: ${(scale.wallMs / 1000).toFixed(1)} s (${scale.ratioToLowerBound.toFixed(2)}× the slowest region's bound), ` +
      `${scale.callsPerInstance.toFixed(3)} calls/instance, peak RSS ${peak?.toFixed(1) ?? "n/a"} MiB, ` +
      `response ${(scale.responseBytes / 1048576).toFixed(2)} MiB, ok=${scale.ok}`,
  );
  return scale;
}

/** What makes the scale run an error (not a missed target): targets lost or not started. */
function scaleErrors(scale: ScaleResult): string[] {
  const met = scaleMet(scale);
  const out: string[] = [];
  if (!met.allReported) out.push(`scale: ${scale.reported} of ${scale.total} targets reported`);
  if (!met.allRunning) out.push(`scale: not every instance reached RUNNING: ${scale.message}`);
  return out;
}

/** `--only scale`: the scale section alone, next to the run's logs, never as latest.md. */
async function scaleOnly(args: Args, mach: Machine): Promise<number> {
  const started = new Date();
  const scale = await scaleSection(args);
  mach.loadavgEnd = loadavg();
  const outDir = resolve(ROOT, "bench/results/tmp");
  await mkdir(outDir, { recursive: true });
  const base = resolve(outDir, `scale-${args.profile.name}`);
  const report = {
    profile: args.profile,
    startedAt: started.toISOString(),
    machine: mach,
    fnEnv: args.fnEnv,
    scale,
  };
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const md = `# Scale (${args.profile.name} profile, scale section only)\n\nCommit ${mach.commit}, load average ${mach.loadavgStart.map((l) => l.toFixed(2)).join(" / ")} → ${mach.loadavgEnd.map((l) => l.toFixed(2)).join(" / ")}.\n\n${scaleMarkdown(scale)}`;
  await writeFile(`${base}.md`, md);
  console.log(md);
  progress(`wrote ${relative(ROOT, base)}.md and .json`);
  const problems = scaleErrors(scale);
  for (const p of problems) console.error(`bench: ${p}`);
  return problems.length > 0 ? 1 : 0;
}

/** `--only pacing`: the pacing section alone, reported next to the run's logs, never as latest.md. */
async function pacingOnly(args: Args, mach: Machine): Promise<number> {
  const { profile, fnEnv } = args;
  const started = new Date();
  const limits = args.pacingLimits ?? profile.pacingLimits;
  const emulator = await startBenchEmulator(
    { durationsMs: { START: profile.transitionMs } },
    profile.timeScale,
  );
  try {
    await emulator.admin.setTimings({
      timeScale: profile.timeScale,
      durationsMs: { START: profile.transitionMs },
    });
    const pacing = await runPacing({
      admin: emulator.admin,
      url: emulator.url,
      bundle: BUNDLES["start-compute"],
      profile,
      limits,
      extraEnv: fnEnv,
      progress,
    });
    mach.loadavgEnd = loadavg();
    const outDir = resolve(ROOT, "bench/results/tmp");
    await mkdir(outDir, { recursive: true });
    const base = resolve(outDir, `pacing-${profile.name}`);
    const report = { profile, startedAt: started.toISOString(), machine: mach, fnEnv, pacing };
    await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(`${base}.md`, pacingMarkdown(report));
    console.log(pacingMarkdown(report));
    progress(`wrote ${relative(ROOT, base)}.md and .json`);
    const failed = pacing.filter((p) => !p.met.allRunning);
    for (const p of failed) console.error(`bench: pacing at ${p.limitPerSecond}/s: ${p.batch.message}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await emulator.close();
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { profile, fnEnv } = args;
  if (args.only === "pacing") {
    requireBundles();
    return await pacingOnly(args, machine());
  }
  if (args.only === "scale") {
    requireBundles();
    return await scaleOnly(args, machine());
  }
  const started = new Date();
  const mach = machine();
  progress(`${profile.name} run; writing to ${profile.outDir}/`);
  requireBundles();

  const bundles = [];
  for (const fn of Object.keys(BUNDLES)) bundles.push(await measureBundle(fn));
  progress(`bundle sizes: ${bundles.map((b) => `${b.fn} ${(b.bytes / 1048576).toFixed(2)} MB`).join(", ")}`);
  const unbundled = await buildUnbundled();

  const transition = profile.transitionMs;
  const emulator: BenchEmulator = await startBenchEmulator(
    { durationsMs: { START: transition } },
    profile.timeScale,
  );
  const errors: string[] = [];
  try {
    const { admin, url } = emulator;
    await admin.setTimings({ timeScale: profile.timeScale, durationsMs: { START: transition } });
    await admin.setFaults({ rateLimit: { perSecond: profile.ratePerSecond, burst: profile.burst } });
    progress(`emulator at ${url}`);

    // 1. Cold start.
    const coldCompartment = benchOcid("compartment");
    const coldInstance = benchOcid("instance");
    await admin.seedInstances([
      {
        id: coldInstance,
        compartmentId: coldCompartment,
        displayName: "cold-start",
        lifecycleState: "STOPPED",
        shape: "VM.Standard.E4.Flex",
      },
    ]);
    const coldPrincipal = await admin.mintPrincipalFor(coldCompartment);
    const coldBody = JSON.stringify({ instance_id: coldInstance, dry_run: true });
    const check = functionVariantCheck(coldInstance);
    const coldStart = await measureColdStart({
      variants: [
        {
          key: "bundled",
          label: "start-compute, bundled (dist/func.js)",
          bundle: BUNDLES["start-compute"],
          check,
        },
        { key: "bare", label: "bare FDK hello world", bundle: BARE_FDK, check: bareCheck },
        { key: "unbundled", label: "start-compute, unbundled (node_modules)", bundle: unbundled, check },
      ],
      env: { ...coldPrincipal.env, OCI_COMPUTE_ENDPOINT: url, OCI_ENDPOINT: url },
      body: coldBody,
      nodeArgs: [`--max-old-space-size=${profile.heapCapMb}`],
      runs: profile.coldStartRuns,
      warmupRounds: 1,
      progress,
    });
    progress(
      `cold start medians: ${coldStart.variants.map((v) => `${v.key} ${v.firstAnswer.median.toFixed(0)} ms`).join(", ")}`,
    );

    // 3, 2, 4, 5. Batches, smallest first, compartment form; the last one is the headline.
    const batches: BatchResult[] = [];
    const runOne = async (count: number, form: BatchResult["form"]): Promise<BatchResult> => {
      const label = `batch of ${count} (${form})`;
      progress(`${label}: running`);
      const b = await runBatch({
        admin,
        url,
        bundle: BUNDLES["start-compute"],
        count,
        form,
        profile,
        extraEnv: fnEnv,
        label,
        logFile: resolve(ROOT, "bench/results/tmp/logs", `${profile.name}-batch-${count}-${form}.log`),
      });
      progress(
        `${label}: ${(b.wallMs / 1000).toFixed(1)} s (lower bound ${(b.lowerBoundMs / 1000).toFixed(1)} s), ` +
          `${b.calls.perInstance.toFixed(3)} calls/instance, ${b.calls.throttled} × 429, peak RSS ` +
          `${b.memory.peakRssMb?.toFixed(1) ?? "n/a"} MB, ok=${b.ok}`,
      );
      if (b.summary.failed > 0) {
        errors.push(
          `${label}: ${b.summary.failed} instances failed ${JSON.stringify(b.failures)}: ${b.message}`,
        );
      }
      return b;
    };
    for (const count of profile.batchCounts) batches.push(await runOne(count, "compartment_id"));
    const top = headline({ batches });
    const idsBatch = profile.idsForm && top ? await runOne(top.count, "instance_ids") : null;

    progress("mixed kinds: instances, 3 instance pools, 3 node pools, 10 container instances");
    const mixedKinds = await runMixedKinds({
      admin,
      url,
      bundle: BUNDLES["start-compute"],
      instances: profile.seedLoopInstances * 5,
      profile,
    });
    progress(
      `mixed kinds: ${(mixedKinds.wallMs / 1000).toFixed(1)} s, ${mixedKinds.callsPerTarget.toFixed(2)} calls/target ` +
        `(${JSON.stringify(mixedKinds.byOperation)}), peak RSS ${mixedKinds.peakRssMb?.toFixed(1) ?? "n/a"} MB`,
    );

    const pacing = await runPacing({
      admin,
      url,
      bundle: BUNDLES["start-compute"],
      profile,
      limits: args.pacingLimits ?? profile.pacingLimits,
      extraEnv: fnEnv,
      progress,
    });
    for (const p of pacing.filter((run) => !run.met.allRunning)) {
      errors.push(`pacing at ${p.limitPerSecond}/s: ${JSON.stringify(p.batch.failures)}: ${p.batch.message}`);
    }

    const scale = await scaleSection(args);
    const scaleProblems = scaleErrors(scale);
    errors.push(...scaleProblems);

    progress(`seed-style loop on ${profile.seedLoopInstances} instances`);
    const seedLoop = await runSeedLoop({ admin, url, instances: profile.seedLoopInstances, profile });
    progress(
      `seed-style loop: ${(seedLoop.perInstanceMs / 1000).toFixed(1)} s and ${seedLoop.callsPerInstance.toFixed(1)} calls per instance`,
    );

    const finished = new Date();
    mach.loadavgEnd = loadavg();
    const base = {
      profile,
      startedAt: started.toISOString(),
      machine: mach,
      fnEnv,
      unbundledVariant:
        `start-compute/func.ts compiled by esbuild into one plain-JS ESM file (${relative(ROOT, unbundled)}) with every ` +
        'package external (`packages: "external"`), so oci-core, oci-common and the FDK load from node_modules',
      coldStart,
      batches,
      idsBatch,
      seedLoop,
      mixedKinds,
      pacing,
      scale,
      bundles,
    };
    const report: BenchReport = {
      ...base,
      finishedAt: finished.toISOString(),
      durationSeconds: (finished.getTime() - started.getTime()) / 1000,
      verdicts: verdicts(base),
      errors,
    };
    const outDir = resolve(ROOT, profile.outDir);
    await mkdir(outDir, { recursive: true });
    await writeFile(resolve(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(resolve(outDir, "latest.md"), markdown(report));
    await writeFile(
      resolve(outDir, "batch.svg"),
      batchChartSvg({
        title: "start-compute: batch wall time against instance count",
        subtitle:
          `${profile.transitionMs / 1000} s START × time scale ${profile.timeScale}, ` +
          `${profile.ratePerSecond} calls/s per principal; ${profile.name} run ${started.toISOString().slice(0, 16)}Z`,
        measured: batches.map((b) => ({ count: b.count, seconds: b.wallMs / 1000 })),
        lowerBound: (n) => n / profile.ratePerSecond + (profile.transitionMs * profile.timeScale) / 1000,
        seedLoop: (n) => (seedLoop.perInstanceMs * n) / 1000,
        seedLabel: `seed-style loop (measured on ${seedLoop.instances}, extrapolated linearly)`,
        deadlineSeconds: profile.deadlineSeconds,
      }),
    );
    console.log(
      report.verdicts
        .map((v) => `${v.met === null ? "  -  " : v.met ? " met " : " MISS"} ${v.measure}: ${v.measured}`)
        .join("\n"),
    );
    progress(`wrote ${relative(ROOT, outDir)}/latest.md, latest.json, batch.svg`);
  } finally {
    await emulator.close();
  }
  if (errors.length > 0) {
    for (const e of errors) console.error(`bench: ${e}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BenchError) console.error(`bench: ${err.message}`);
    else console.error("bench: unexpected failure:", err);
    process.exit(1);
  },
);
