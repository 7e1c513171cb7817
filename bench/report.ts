/** The benchmark's verdicts and its Markdown report. */

import { imageNodeArgs } from "../emulator/src/fn-agent.js";
import type { BatchResult } from "./batch.js";
import type { BundleSize } from "./bundle-size.js";
import type { ColdStartResult } from "./cold-start.js";
import { BUNDLES } from "./functions.js";
import type { MixedKindsResult } from "./mixed-kinds.js";
import { PACING_TARGETS, type PacingRun } from "./pacing.js";
import type { Profile } from "./profile.js";
import { SCALE_TARGETS, type ScaleResult, scaleMarkdown, scaleMet } from "./scale.js";
import type { SeedLoopResult } from "./seed-loop.js";
import { round } from "./stats.js";

/** Issue 11's targets: cold start within 2× the bare FDK function, a bundle of at most 300 KB. */
const COLD_START_RATIO_TARGET = 2;
const BUNDLE_TARGET_KB = 300;

export interface Machine {
  node: string;
  cpus: number;
  cpuModel: string;
  loadavgStart: number[];
  loadavgEnd: number[];
  commit: string;
}

export interface Verdict {
  id: number;
  measure: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export interface BenchReport {
  profile: Profile;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: Machine;
  fnEnv: Record<string, string>;
  unbundledVariant: string;
  coldStart: ColdStartResult;
  batches: BatchResult[];
  idsBatch: BatchResult | null;
  seedLoop: SeedLoopResult;
  mixedKinds: MixedKindsResult;
  /** Issue 14: one batch per emulated rate limit. */
  pacing: PacingRun[];
  /** Issue 14: one invocation over many targets in several regions. */
  scale: ScaleResult;
  bundles: BundleSize[];
  verdicts: Verdict[];
  errors: string[];
}

/** The node flags the functions' image starts them with (and every bench run uses, via fn-agent.ts). */
const IMAGE_FLAGS = imageNodeArgs(BUNDLES["start-compute"]).join(" ");

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const x = (ratio: number): string => `${ratio.toFixed(2)}×`;
const mb = (bytes: number): string =>
  bytes < 1024 * 1024 ? `${round(bytes / 1024, 1)} KB` : `${round(bytes / 1024 / 1024, 2)} MB`;
const yesNo = (met: boolean | null): string => (met === null ? "n/a" : met ? "**met**" : "**not met**");

export function headline(report: Pick<BenchReport, "batches">): BatchResult | undefined {
  return report.batches.at(-1);
}

export function verdicts(
  r: Omit<BenchReport, "verdicts" | "errors" | "finishedAt" | "durationSeconds">,
): Verdict[] {
  const top = headline(r);
  const out: Verdict[] = [];
  const bare = r.coldStart.variants.find((v) => v.key === "bare")?.firstAnswer.median ?? Number.NaN;
  const bundled = r.coldStart.variants.find((v) => v.key === "bundled")?.firstAnswer.median ?? Number.NaN;
  out.push({
    id: 1,
    measure: "Cold start, spawn → first answer (dry run), bundled ÷ bare FDK",
    target: `≤ ${COLD_START_RATIO_TARGET}×`,
    measured: `${x(r.coldStart.ratioBundledToBare)} (${round(bundled, 0)} ms vs ${round(bare, 0)} ms)`,
    met: r.coldStart.ratioBundledToBare <= COLD_START_RATIO_TARGET,
  });
  if (top) {
    const peak = top.memory.peakRssMb ?? top.memory.maxSampledRssMb;
    out.push({
      id: 2,
      measure: `Peak RSS of the function during the ${top.count}-instance batch (--max-old-space-size=${r.profile.heapCapMb})`,
      target: "completes, ≤ 128 MB",
      measured: peak === null ? "not readable" : `${round(peak, 1)} MB`,
      met: peak === null ? null : peak <= 128,
    });
    out.push({
      id: 3,
      measure: `Batch of ${top.count}: wall time ÷ lower bound`,
      target: "≤ 1.2×",
      measured: `${x(top.ratioToLowerBound)} (${s(top.wallMs)} vs ${s(top.lowerBoundMs)})`,
      met: top.ratioToLowerBound <= 1.2 && top.notRunning === 0,
    });
    out.push({
      id: 3,
      measure: `Batch of ${top.count}: inside the ${r.profile.deadlineSeconds} s deadline, all RUNNING`,
      target: `< ${r.profile.deadlineSeconds} s`,
      measured: `${s(top.wallMs)}, ${top.count - top.notRunning}/${top.count} RUNNING`,
      met: top.wallMs < r.profile.deadlineSeconds * 1000 && top.notRunning === 0,
    });
    out.push({
      id: 4,
      measure: `API calls per instance, ${top.count}-instance start with wait (429s included)`,
      target: "≤ 1.1",
      measured:
        `${round(top.calls.perInstance, 3)} (${top.calls.total} calls, ${top.calls.throttled} × 429)` +
        (top.notRunning > 0 ? `, but ${top.notRunning} instances never reached RUNNING` : ""),
      // Fewer calls than instances means actions were never sent: not a success.
      met: top.calls.perInstance <= 1.1 && top.notRunning === 0,
    });
    out.push({
      id: 5,
      measure: "Wait overhead: last instance RUNNING → function answered",
      target: "≤ 1 s",
      measured: top.waitOverheadMs === null ? "not all instances reached RUNNING" : s(top.waitOverheadMs),
      met: top.waitOverheadMs === null ? false : top.waitOverheadMs <= 1000,
    });
  }
  for (const p of r.pacing) out.push(pacingVerdictRow(p));
  out.push(scaleVerdictRow(r.scale));
  for (const b of r.bundles) {
    out.push({
      id: 6,
      measure: `Bundle size, ${b.fn}/dist/func.js (largest part: ${b.byPackage[0]?.name ?? "?"})`,
      target: `≤ ${BUNDLE_TARGET_KB} KB`,
      measured: `${mb(b.bytes)} (${mb(b.gzipBytes)} gzip)`,
      met: b.bytes <= BUNDLE_TARGET_KB * 1024,
    });
  }
  return out;
}

/** Scale: every target of issue 14's third part at once (the section below has each). */
function scaleVerdictRow(r: ScaleResult): Verdict {
  const met = scaleMet(r);
  const peak = r.memory.peakRssMb ?? r.memory.maxSampledRssMb;
  return {
    id: 14,
    measure:
      `Scale: ${r.total} starts over ${r.regions.length} regions in one invocation: ` +
      "÷ slowest region's bound, peak RSS, calls/instance, reported",
    target: `≤ ${SCALE_TARGETS.ratio}× in the deadline, ≤ ${SCALE_TARGETS.rssMb} MiB, ≤ ${SCALE_TARGETS.callsPerInstance}`,
    measured:
      `${x(r.ratioToLowerBound)}, ${peak === null ? "n/a" : `${round(peak, 1)} MiB`}, ${round(r.callsPerInstance, 3)}, ` +
      `${r.reported}/${r.total}`,
    met: met.ratio && met.deadline && met.rss !== false && met.calls && met.allReported && met.allRunning,
  };
}

/** One verdict per limit: all three targets of issue 14 at once (the table below has each). */
function pacingVerdictRow(p: PacingRun): Verdict {
  const b = p.batch;
  return {
    id: 14,
    measure: `Pacing: ${b.count} starts against ${p.limitPerSecond} calls/s: ÷ lower bound, 429s, calls/instance`,
    target: `≤ ${PACING_TARGETS.ratio}×, < ${PACING_TARGETS.throttledPercent} %, ≤ ${PACING_TARGETS.callsPerInstance}`,
    measured: `${x(b.ratioToLowerBound)}, ${round(p.throttledPercent, 1)} %, ${round(b.calls.perInstance, 3)}`,
    met: p.met.ratio && p.met.throttled && p.met.calls && p.met.allRunning,
  };
}

function pacingTable(runs: readonly PacingRun[]): string {
  const mark = (met: boolean): string => (met ? "met" : "**not met**");
  return table(
    ["limit", "N", "wall", "lower bound", "÷ lower bound", "429s", "429 %", "calls / instance", "verdict"],
    runs.map((p) => {
      const b = p.batch;
      const missed = [
        p.met.ratio ? "" : "time",
        p.met.throttled ? "" : "429s",
        p.met.calls ? "" : "calls",
        p.met.allRunning ? "" : `${b.notRunning} not RUNNING`,
      ].filter((m) => m !== "");
      return [
        `${p.limitPerSecond}/s (burst ${p.burst})`,
        String(b.count),
        s(b.wallMs),
        s(b.lowerBoundMs),
        x(b.ratioToLowerBound),
        String(b.calls.throttled),
        `${round(p.throttledPercent, 1)} %`,
        String(round(b.calls.perInstance, 3)),
        missed.length === 0 ? mark(true) : `${mark(false)} (${missed.join(", ")})`,
      ];
    }),
  );
}

function pacingIntro(p: Profile, fnEnv: Record<string, string>): string {
  const transitionS = (p.transitionMs * p.timeScale) / 1000;
  return (
    `One start-compute invocation with \`{"compartment_id": …}\` (wait: true) per emulated rate limit, each ` +
    "against a fresh principal (a full bucket of one second's burst), function config " +
    `${Object.keys(fnEnv).length > 0 ? JSON.stringify(fnEnv) : "defaults (POWER_MAX_RATE 10: every limit is found from 10/s)"}. ` +
    `Lower bound = N ÷ limit + ${transitionS} s (one transition). Targets (issue 14): ≤ ${PACING_TARGETS.ratio}× the ` +
    `lower bound, 429s under ${PACING_TARGETS.throttledPercent} % of the calls, ≤ ${PACING_TARGETS.callsPerInstance} ` +
    "API calls per instance (429s and state reads included)."
  );
}

/** The pacing section alone (`npm run bench -- --only pacing`). */
export function pacingMarkdown(r: {
  profile: Profile;
  startedAt: string;
  machine: Machine;
  fnEnv: Record<string, string>;
  pacing: PacingRun[];
}): string {
  return [
    `# Pacing (${r.profile.name} profile, pacing section only)`,
    "",
    `Run \`npm run bench -- --only pacing\` at ${r.startedAt}; ${r.machine.cpus} × ${r.machine.cpuModel}, Node ` +
      `${r.machine.node}, load average ${r.machine.loadavgStart.map((l) => round(l, 2)).join(" / ")} → ` +
      `${r.machine.loadavgEnd.map((l) => round(l, 2)).join(" / ")}; commit ${r.machine.commit}.`,
    "",
    pacingIntro(r.profile, r.fnEnv),
    "",
    pacingTable(r.pacing),
    "",
  ].join("\n");
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function markdown(r: BenchReport): string {
  const p = r.profile;
  const top = headline(r);
  const transitionS = (p.transitionMs * p.timeScale) / 1000;
  const lines: string[] = [];
  lines.push(
    `# Benchmark report (${p.name} run)`,
    "",
    `Run \`npm run bench${p.name === "quick" ? " -- --quick" : ""}\` at ${r.startedAt}, took ${Math.round(r.durationSeconds)} s. ` +
      `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, load average at start ` +
      `${r.machine.loadavgStart.map((l) => round(l, 2)).join(" / ")}, at end ${r.machine.loadavgEnd.map((l) => round(l, 2)).join(" / ")}; ` +
      `commit ${r.machine.commit}. The machine is shared: read ratios, not bare times.`,
    "",
    `Emulator in-process on loopback; START transition ${p.transitionMs / 1000} s of OCI time at time scale ${p.timeScale} ` +
      `(= ${transitionS} s); rate limit ${p.ratePerSecond} calls/s per principal (burst ${p.burst}), 429 beyond. ` +
      `Function processes run as the image runs them, \`node ${IMAGE_FLAGS} <bundle>\` (the Dockerfile's ENTRYPOINT), ` +
      "under the Fn contract (emulator/src/fn-agent.ts)." +
      (Object.keys(r.fnEnv).length > 0
        ? ` Extra function env: ${JSON.stringify(r.fnEnv)}.`
        : " Function config: defaults."),
    "",
    "## Targets",
    "",
    table(
      ["#", "measure", "target", "measured", "verdict"],
      r.verdicts.map((v) => [String(v.id), v.measure, v.target, v.measured, yesNo(v.met)]),
    ),
    "",
  );
  if (r.errors.length > 0) {
    lines.push("## Errors", "", ...r.errors.map((e) => `- ${e.split("\n")[0]}`), "");
  }

  const cs = r.coldStart;
  lines.push(
    "## Cold start (1)",
    "",
    `Process spawn → first answer to \`${cs.body.replace(/ocid1\.instance\.[^"]+/, "ocid1.instance.oc1.iad.…")}\` ` +
      "(a dry run: the function still resolves the instance " +
      `with one GET against the emulator; the bare FDK function just answers). ${cs.runs} measured rounds after ` +
      `${cs.warmupRounds} discarded warm-up round, the three variants interleaved (order rotated each round). ` +
      `Node flags: \`${cs.nodeArgs.join(" ") || "none"}\`, and for the bundled variant first the image's \`${IMAGE_FLAGS}\` ` +
      `(the other two have no image). Unbundled variant: ${r.unbundledVariant}.`,
    "",
    table(
      [
        "variant",
        "first answer, median",
        "p10–p90",
        "socket ready, median",
        "÷ bare FDK",
        "peak RSS after it",
      ],
      cs.variants.map((v) => {
        const bare = cs.variants.find((b) => b.key === "bare")?.firstAnswer.median ?? Number.NaN;
        return [
          v.label,
          `${round(v.firstAnswer.median, 0)} ms`,
          `${round(v.firstAnswer.p10, 0)}–${round(v.firstAnswer.p90, 0)} ms`,
          `${round(v.socketReady.median, 0)} ms`,
          x(v.firstAnswer.median / bare),
          `${round(v.peakRssAfterFirstAnswerMb.median, 1)} MB`,
        ];
      }),
    ),
    "",
  );

  lines.push(
    "## Batch: wall time against instance count (3)",
    "",
    `One invocation of start-compute with \`{"compartment_id": …}\` selecting N stopped instances (wait: true, ` +
      `Fn-Deadline ${p.deadlineSeconds} s); wall time from sending the call to its answer (process spawn excluded, ` +
      `see cold start). Lower bound = N ÷ ${p.ratePerSecond}/s + ${transitionS} s. Every function process runs with ` +
      `the image's \`${IMAGE_FLAGS}\` and \`--max-old-space-size=${p.heapCapMb}\`.`,
    "",
    "![batch wall time against instance count](batch.svg)",
    "",
    table(
      [
        "N",
        "target form",
        "wall",
        "lower bound",
        "÷ lower bound",
        "API calls / instance",
        "429s",
        "wait overhead",
        "peak RSS",
        "outcomes",
      ],
      [...r.batches, ...(r.idsBatch ? [r.idsBatch] : [])].map((b) => [
        String(b.count),
        b.form,
        s(b.wallMs),
        s(b.lowerBoundMs),
        x(b.ratioToLowerBound),
        String(round(b.calls.perInstance, 3)),
        String(b.calls.throttled),
        b.waitOverheadMs === null ? "n/a" : `${round(b.waitOverheadMs, 0)} ms`,
        b.memory.peakRssMb === null ? "n/a" : `${round(b.memory.peakRssMb, 1)} MB`,
        Object.entries(b.summary)
          .filter(([k, v]) => k !== "requested" && v > 0)
          .map(([k, v]) => `${v} ${k}`)
          .join(", ") +
          (Object.keys(b.failures).length > 0 ? ` (failed: ${JSON.stringify(b.failures)})` : ""),
      ]),
    ),
    "",
  );
  const mk = r.mixedKinds;
  lines.push(
    "## Mixed kinds (issue 13)",
    "",
    `bench/mixed-kinds.ts: one start-compute with target_ids over ${JSON.stringify(mk.targets)}, waited on: ` +
      `${s(mk.wallMs)}, ${round(mk.callsPerTarget, 2)} API calls per target (${JSON.stringify(mk.byOperation)}), ` +
      `peak RSS ${mk.peakRssMb === null ? "n/a" : `${round(mk.peakRssMb, 1)} MB`}; ${mk.message}.`,
    "",
  );
  lines.push(
    `## Scale: ${r.scale.total} targets over ${r.scale.regions.length} regions in one invocation (14)`,
    "",
    scaleMarkdown(r.scale),
  );
  if (r.pacing.length > 0) {
    lines.push(
      "## Pacing: finding the rate limit (14)",
      "",
      pacingIntro(p, r.fnEnv),
      "",
      pacingTable(r.pacing),
      "",
    );
  }
  const sl = r.seedLoop;
  if (top) {
    const extrapolated = sl.perInstanceMs * top.count;
    lines.push(
      "## Seed-style loop, the baseline (3)",
      "",
      `bench/seed-loop.ts: for one instance after another, START, then sleep ${p.seedSleepMs / 1000} s of OCI time ` +
        `(${sl.sleepMs / 1000} s scaled) and GET until RUNNING, with the real oci-core ComputeClient signed as a ` +
        `resource principal against the same emulator. Measured on ${sl.instances} instances: ${s(sl.wallMs)} ` +
        `(${s(sl.perInstanceMs)} per instance), ${round(sl.callsPerInstance, 2)} API calls per instance, mean wait ` +
        `overhead ${round(sl.meanWaitOverheadMs, 0)} ms after RUNNING (the emulator's transition is an exact ` +
        "multiple of the seed's sleep, the seed's best case; a real transition lands anywhere in a sleep, so up to " +
        `${p.seedSleepMs / 1000} s in OCI time). Extrapolated linearly to ${top.count} ` +
        `instances: ${s(extrapolated)}, i.e. ${round(extrapolated / top.wallMs, 1)}× the function's ` +
        `${s(top.wallMs)}, and ${round(extrapolated / (p.deadlineSeconds * 1000), 1)}× the ${p.deadlineSeconds} s deadline.`,
      "",
    );
    lines.push(
      "## API calls of the headline batch, by operation and status (4)",
      "",
      `${top.count} instances, ${top.form}: ${top.calls.total} calls = ${round(top.calls.perInstance, 3)} per instance. ` +
        `By operation: ${JSON.stringify(top.calls.byOperation)}. By status: ${JSON.stringify(top.calls.byStatus)}. ` +
        `Replayed retry tokens: ${top.calls.replayed}. Function log lines: ${top.logLines.total} ` +
        `${JSON.stringify(top.logLines.byLevel)}.`,
      "",
    );
    const peak = top.memory.peakRssMb;
    lines.push(
      "## Memory (2)",
      "",
      `Peak RSS (VmHWM from /proc/<pid>/status, read right after the answer) of the function process during the ` +
        `${top.count}-instance batch: ${peak === null ? "n/a" : `${round(peak, 1)} MB`}; highest polled VmRSS ` +
        `(every 50 ms): ${top.memory.maxSampledRssMb === null ? "n/a" : `${round(top.memory.maxSampledRssMb, 1)} MB`}. ` +
        "MB here means MiB (1,048,576 bytes), as OCI's memory setting does.",
      "",
      "## Wait overhead (5)",
      "",
      "From the moment the last instance entered RUNNING in the emulator (its stateHistory) to the moment the " +
        `function's answer arrived (same process clock): ${top.waitOverheadMs === null ? "n/a" : s(top.waitOverheadMs)} ` +
        `for the ${top.count}-instance batch; the seed-style loop averages ${round(sl.meanWaitOverheadMs, 0)} ms ` +
        "here (best case, see above).",
      "",
    );
  }
  lines.push("## Bundle size (6)", "");
  const [first] = r.bundles;
  if (first) {
    lines.push(
      r.bundles
        .map(
          (b) =>
            `**${b.fn}/dist/func.js**: ${mb(b.bytes)} (${mb(b.gzipBytes)} gzipped)${b.minified ? ", minified" : ""}.`,
        )
        .join(" "),
      "",
      `What it is made of (bytes each part contributes to the output; from ${first.breakdownSource}). ` +
        "The last column adds every package reachable only through that one: what dropping it would save.",
      "",
      table(
        ["part", ...r.bundles.map((b) => b.fn), "share", "with what only it pulls in"],
        [...first.byPackage, ...first.insideLargest].map((g) => {
          const inside = first.insideLargest.includes(g);
          const cells = r.bundles.map((b) => {
            const same = (inside ? b.insideLargest : b.byPackage).find((o) => o.name === g.name);
            return same ? mb(same.bytes) : "–";
          });
          const excl =
            g.exclusiveBytes === undefined
              ? ""
              : `${mb(g.exclusiveBytes)} (${round((g.exclusiveBytes / first.breakdownTotalBytes) * 100, 1)} %)`;
          return [inside ? `↳ ${g.name}` : g.name, ...cells, `${round(g.share * 100, 1)} %`, excl];
        }),
      ),
      "",
    );
  }
  lines.push("Raw samples and every number above: `latest.json` next to this file.", "");
  return lines.join("\n");
}
