/**
 * `npm run soak`: 10,000 instance operations over many invocations of two warm function processes
 * (start-compute and stop-compute, the built bundles under the Fn contract) against the emulator
 * with faults on (rate limit, 500/503, dropped connections before and after processing).
 *
 * Checks, per invocation: every requested id answered exactly once, the summary adds up, what is
 * reported done is done in the emulator, and no instance got a second power action except replays
 * of the same retry token. Measures the function processes: RSS after every invocation, open file
 * descriptors and sockets (/proc/<pid>/fd) and active handles (process.getActiveResourcesInfo(),
 * asked for over SIGUSR2 by a probe loaded with --import; nothing is added to src/) after a quiet
 * period at the start and at the end.
 *
 * Not a test (not in `npm test`): prints a summary, writes bench/results/soak.json, exits 1 when
 * anything was lost, misreported or leaked.
 *
 *   npm run soak [-- --invocations 50 --batch 200 --seed 7]
 */
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FnProcess } from "../emulator/src/fn-agent.js";
import { type Faults, startEmulator } from "../emulator/src/index.js";
import type { PowerResponse } from "../src/response.js";
import { accountingProblems, secondActionViolations } from "../test/reliability/harness.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "bench/results/soak.json");
const COMP = "ocid1.compartment.oc1..soak";
const HEAP_CAP_MB = 96;
/** Longer than the emulator's keep-alive timeout (5 s), so idle sockets have closed when we count. */
const QUIET_MS = 6_000;

/** Answers SIGUSR2 with one JSON line on stderr: the process's active resources. */
const PROBE = `data:text/javascript,${encodeURIComponent(
  'process.on("SIGUSR2",()=>{process.stderr.write(JSON.stringify({soak_probe:process.getActiveResourcesInfo()})+"\\n")});',
)}`;

interface Sample {
  invocation: number;
  fn: "start" | "stop";
  rssMb: number;
  fds: number;
  sockets: number;
  tcp: number;
  unix: number;
  ms: number;
}

interface ProcessHealth {
  fds: number;
  sockets: number;
  /** TCP connections (to the Compute endpoint) and unix sockets (Fn listener, stdio). */
  tcp: number;
  unix: number;
  handles: Record<string, number>;
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Socket inodes of one kind, from /proc/<pid>/net/{tcp,tcp6,unix} (the inode column). */
function socketInodes(pid: number, kind: "tcp" | "unix"): Set<string> {
  const files = kind === "tcp" ? ["tcp", "tcp6"] : ["unix"];
  const column = kind === "tcp" ? 9 : 6;
  const out = new Set<string>();
  for (const f of files) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${f}`, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const inode = row.trim().split(/\s+/)[column];
      if (inode) out.add(inode);
    }
  }
  return out;
}

function fdCounts(pid: number): { fds: number; sockets: number; tcp: number; unix: number } {
  const dir = `/proc/${pid}/fd`;
  const tcpInodes = socketInodes(pid, "tcp");
  const unixInodes = socketInodes(pid, "unix");
  let fds = 0;
  let sockets = 0;
  let tcp = 0;
  let unix = 0;
  for (const fd of readdirSync(dir)) {
    fds++;
    let link = "";
    try {
      link = readlinkSync(join(dir, fd));
    } catch {
      continue; // closed while we looked
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (!m) continue;
    sockets++;
    if (tcpInodes.has(m[1] ?? "")) tcp++;
    else if (unixInodes.has(m[1] ?? "")) unix++;
  }
  return { fds, sockets, tcp, unix };
}

function stats(values: number[]): { first: number; median: number; last: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    first: values[0] ?? Number.NaN,
    median: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    last: values.at(-1) ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      invocations: { type: "string", default: "50" },
      batch: { type: "string", default: "200" },
      seed: { type: "string", default: "7" },
    },
  });
  const invocations = Number(values.invocations);
  const batch = Number(values.batch);
  const seed = Number(values.seed);
  const startedAt = Date.now();

  const emu = await startEmulator({ timeScale: 0.002 });
  const rp = await emu.admin.mintResourcePrincipal({ compartmentId: emu.tenancyId });
  const made = await emu.admin.putInstances(
    Array.from({ length: batch }, () => ({ compartmentId: COMP, lifecycleState: "RUNNING" })),
  );
  const ids = made.map((i) => i.id);
  const faults = (round: number): Faults => ({
    rateLimit: { perSecond: 80, burst: 20 },
    errorRate: { fraction: 0.12, statuses: [500, 503] },
    dropRate: { fraction: 0.06, afterProcessing: round % 2 === 1 },
    seed: seed + round,
  });

  const probes = new Map<number, (handles: string[]) => void>();
  const spawn = async (kind: "start" | "stop"): Promise<FnProcess> => {
    const fn = await FnProcess.start({
      bundle: join(ROOT, `${kind}-compute/dist/func.js`),
      // POWER_MAX_RATE: start pacing at 50/s (the default 10/s only makes the soak slower; the
      // emulator's own rate limit of 80/s still throttles).
      env: { ...rp.env, OCI_COMPUTE_ENDPOINT: emu.url, OCI_ENDPOINT: emu.url, POWER_MAX_RATE: "50" },
      nodeArgs: [`--max-old-space-size=${HEAP_CAP_MB}`, "--import", PROBE],
      onOutput: (_stream, line) => {
        if (!line.startsWith('{"soak_probe"')) return;
        const pid = fn.pid;
        const resolve = pid === undefined ? undefined : probes.get(pid);
        if (!resolve) return;
        probes.delete(pid ?? -1);
        resolve((JSON.parse(line) as { soak_probe: string[] }).soak_probe);
      },
    });
    return fn;
  };
  const fns = { start: await spawn("start"), stop: await spawn("stop") };
  const pidOf = (fn: FnProcess): number => {
    if (fn.pid === undefined) throw new Error("function process has no pid");
    return fn.pid;
  };

  const health = async (fn: FnProcess): Promise<ProcessHealth> => {
    const pid = pidOf(fn);
    const handles = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer from the handle probe")), 5_000);
      probes.set(pid, (h) => {
        clearTimeout(timer);
        resolve(h);
      });
      process.kill(pid, "SIGUSR2");
    });
    const counted: Record<string, number> = {};
    for (const h of handles) counted[h] = (counted[h] ?? 0) + 1;
    return { ...fdCounts(pid), handles: counted };
  };

  // Warm both processes (SDK loaded, client built) without counting it, then let sockets go idle.
  for (const kind of ["start", "stop"] as const) {
    await fns[kind].call(JSON.stringify({ instance_id: ids[0], dry_run: true }), {
      deadline: new Date(Date.now() + 30_000),
    });
  }
  await new Promise((r) => setTimeout(r, QUIET_MS));
  const before = { start: await health(fns.start), stop: await health(fns.stop) };

  const handleTotal = (h: ProcessHealth) => Object.values(h.handles).reduce((a, b) => a + b, 0);
  const samples: Sample[] = [];
  const outcomes: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const problems: string[] = [];
  let operations = 0;
  let lost = 0;
  let misreported = 0;
  let secondActions = 0;
  let ociCalls = 0;
  let failedCalls = 0;

  for (let i = 0; i < invocations; i++) {
    const kind = i % 2 === 0 ? "stop" : "start";
    const fn = fns[kind];
    const body =
      kind === "stop"
        ? { instance_ids: ids, action: i % 4 === 0 ? "STOP" : "SOFTSTOP" }
        : { instance_ids: ids };
    await emu.admin.setFaults(faults(i));
    const { next } = await emu.admin.calls();
    const t0 = Date.now();
    const raw = await fn.call(JSON.stringify(body), { deadline: new Date(t0 + 120_000) });
    const ms = Date.now() - t0;
    await emu.admin.setFaults({});
    const { calls } = await emu.admin.calls(next);
    ociCalls += calls.length;
    failedCalls += calls.filter((c) => c.status === 0 || c.status === 429 || c.status >= 500).length;

    let res: PowerResponse | undefined;
    try {
      res = JSON.parse(raw.body) as PowerResponse;
    } catch {
      res = undefined;
    }
    operations += ids.length;
    if (raw.status !== 200 || !res?.results) {
      lost += ids.length;
      problems.push(`invocation ${i}: ${raw.status} ${raw.body.slice(0, 200)}`);
    } else {
      const accounting = accountingProblems(res, ids);
      if (accounting.length > 0) {
        const answered = new Set(res.results.map((r) => r.target_id));
        lost += ids.filter((id) => !answered.has(id)).length || accounting.length;
        problems.push(`invocation ${i}: ${accounting.slice(0, 3).join("; ")}`);
      }
      const target = kind === "start" ? "RUNNING" : "STOPPED";
      const stored = new Map((await emu.admin.listInstances()).map((x) => [x.id, x.lifecycleState]));
      for (const r of res.results) {
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
        if (r.outcome === "failed")
          failures[r.error?.code ?? "?"] = (failures[r.error?.code ?? "?"] ?? 0) + 1;
        if ((r.outcome === "changed" || r.outcome === "unchanged") && stored.get(r.target_id) !== target) {
          misreported++;
          problems.push(`invocation ${i}: ${r.target_id} ${r.outcome} but ${stored.get(r.target_id)}`);
        }
      }
    }
    const violations = secondActionViolations(calls, ids);
    secondActions += violations.length;
    problems.push(...violations.slice(0, 3).map((v) => `invocation ${i}: ${v}`));

    const pid = pidOf(fn);
    samples.push({ invocation: i, fn: kind, rssMb: rssMb(pid), ...fdCounts(pid), ms });
    const s = res?.summary;
    process.stderr.write(
      `soak ${i + 1}/${invocations} ${kind}: ${ms} ms, ${s ? `${s.changed} changed, ${s.unchanged} unchanged, ${s.in_progress} in progress, ${s.failed} failed` : "no summary"}, rss ${samples.at(-1)?.rssMb} MB\n`,
    );
  }

  await new Promise((r) => setTimeout(r, QUIET_MS));
  let after = { start: await health(fns.start), stop: await health(fns.stop) };
  const grew = () =>
    (["start", "stop"] as const).some(
      (k) => after[k].fds > before[k].fds || handleTotal(after[k]) > handleTotal(before[k]),
    );
  // A connection closing at the edge of the quiet period is not a leak: look once more.
  if (grew()) {
    await new Promise((r) => setTimeout(r, QUIET_MS));
    after = { start: await health(fns.start), stop: await health(fns.stop) };
  }
  const alive = { start: fns.start.alive, stop: fns.stop.alive };
  await fns.start.stop();
  await fns.stop.stop();
  await emu.close();

  const rssBy = (kind: "start" | "stop") => samples.filter((s) => s.fn === kind).map((s) => s.rssMb);
  const rss = { start: stats(rssBy("start")), stop: stats(rssBy("stop")) };
  const drift = (kind: "start" | "stop") => {
    const v = rssBy(kind);
    const k = Math.max(1, Math.floor(v.length / 5));
    return Math.round((mean(v.slice(-k)) - mean(v.slice(0, k))) * 10) / 10;
  };
  const leaked = (["start", "stop"] as const).filter(
    (k) => after[k].fds > before[k].fds || handleTotal(after[k]) > handleTotal(before[k]),
  );
  const ok =
    lost === 0 &&
    misreported === 0 &&
    secondActions === 0 &&
    leaked.length === 0 &&
    alive.start &&
    alive.stop;

  const report = {
    command: `npm run soak -- --invocations ${invocations} --batch ${batch} --seed ${seed}`,
    date: new Date(startedAt).toISOString(),
    durationS: Math.round((Date.now() - startedAt) / 1000),
    node: process.version,
    heapCapMb: HEAP_CAP_MB,
    emulator: {
      timeScale: 0.002,
      faults: { ...faults(0), dropRate: { fraction: 0.06, afterProcessing: "alternating per invocation" } },
    },
    invocations,
    batch,
    operations,
    lost,
    misreported,
    secondPowerActions: secondActions,
    outcomes,
    failedByCode: failures,
    ociCalls,
    ociCallsFailedByFaults: failedCalls,
    faultShare: Math.round((failedCalls / Math.max(1, ociCalls)) * 1000) / 1000,
    invocationMs: stats(samples.map((s) => s.ms)),
    rssMb: rss,
    rssDriftMb: { start: drift("start"), stop: drift("stop") },
    processes: { before, after, alive },
    leaked,
    problems: problems.slice(0, 50),
    ok,
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);

  const line = (k: "start" | "stop") =>
    `  ${k}-compute: RSS first ${rss[k].first} / median ${rss[k].median} / last ${rss[k].last} / max ${rss[k].max} MB (drift ${report.rssDriftMb[k]} MB); fds ${before[k].fds} -> ${after[k].fds}, sockets ${before[k].sockets} -> ${after[k].sockets} (tcp ${before[k].tcp} -> ${after[k].tcp}), handles ${handleTotal(before[k])} -> ${handleTotal(after[k])}`;
  process.stdout.write(
    [
      `soak: ${operations} instance operations in ${invocations} invocations of ${batch} (${report.durationS} s), faults on: ${failedCalls}/${ociCalls} OCI calls failed (${(report.faultShare * 100).toFixed(1)}%)`,
      `  lost ${lost}, misreported ${misreported}, second power actions ${secondActions}`,
      `  outcomes ${JSON.stringify(outcomes)}${Object.keys(failures).length ? `, failed by code ${JSON.stringify(failures)}` : ""}`,
      line("start"),
      line("stop"),
      `  ${ok ? "OK" : `NOT OK: ${problems.slice(0, 5).join(" | ") || `leaked in ${leaked.join(", ")}`}`}`,
      `  written to ${OUT}`,
      "",
    ].join("\n"),
  );
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
