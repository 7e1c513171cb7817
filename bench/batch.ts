/**
 * One batch: N stopped instances, one start-compute invocation that starts them all and waits, under
 * the emulator's rate limit and a time-scaled transition. Measures wall time, peak RSS of the function
 * process, API calls from the emulator's call log, and the wait overhead from the instances' state history.
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, relative } from "node:path";
import { FnProcess } from "../emulator/src/fn-agent.js";
import type { Admin, CallRecord } from "./emulator.js";
import { BenchError } from "./errors.js";
import { ROOT } from "./functions.js";
import { benchOcid } from "./ids.js";
import { type MemoryReading, MemorySampler } from "./memory.js";
import type { Profile } from "./profile.js";
import { failureCodes, type Outcome, parseAnswer } from "./response.js";

export type TargetForm = "compartment_id" | "instance_ids";

export interface CallStats {
  total: number;
  perInstance: number;
  throttled: number;
  byOperation: Record<string, number>;
  byStatus: Record<string, number>;
  /** Power actions answered as a replay of a known retry token. */
  replayed: number;
  /** Calls logged under another principal in the same window (should be 0). */
  otherPrincipals: number;
}

export interface BatchResult {
  label: string;
  form: TargetForm;
  count: number;
  /** Spawn → socket ready of the function process (not part of wallMs), ms. */
  spawnMs: number;
  /** Invocation sent → answer received, ms. */
  wallMs: number;
  lowerBoundMs: number;
  ratioToLowerBound: number;
  ok: boolean;
  message: string;
  summary: Record<Outcome | "requested", number>;
  failures: Record<string, number>;
  /** Instances not RUNNING in the emulator after the answer. */
  notRunning: number;
  calls: CallStats;
  /** Answer time minus the moment the last instance reached RUNNING (emulator clock = our clock), ms. */
  waitOverheadMs: number | null;
  memory: MemoryReading;
  fnEnv: Record<string, string>;
  logLines: { total: number; byLevel: Record<string, number> };
  /** Every line the function wrote during this run (secret-free by the functions' contract). */
  logFile: string;
}

function callStats(calls: readonly CallRecord[], principalId: string, count: number): CallStats {
  const byOperation: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  let throttled = 0;
  let replayed = 0;
  let otherPrincipals = 0;
  for (const c of calls) {
    if (c.principal !== undefined && c.principal !== principalId) otherPrincipals++;
    byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
    byStatus[String(c.status)] = (byStatus[String(c.status)] ?? 0) + 1;
    if (c.status === 429) throttled++;
    if (c.replayed === true) replayed++;
  }
  return {
    total: calls.length,
    perInstance: calls.length / count,
    throttled,
    byOperation,
    byStatus,
    replayed,
    otherPrincipals,
  };
}

function levelOf(line: string): string {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === "object" && parsed !== null && "level" in parsed) {
      const level = (parsed as { level: unknown }).level;
      if (typeof level === "string") return level;
    }
  } catch {
    // not a JSON log line
  }
  return "plain";
}

export async function runBatch(opts: {
  admin: Admin;
  url: string;
  bundle: string;
  count: number;
  form: TargetForm;
  profile: Profile;
  extraEnv: Record<string, string>;
  label: string;
  /** Where to keep the function's log lines. */
  logFile: string;
  /** Extra node flags for diagnosis (e.g. --trace-gc), after the heap cap. */
  extraNodeArgs?: string[];
}): Promise<BatchResult> {
  const { admin, profile, count } = opts;
  const compartmentId = benchOcid("compartment");
  const ids = Array.from({ length: count }, () => benchOcid("instance"));
  await admin.seedInstances(
    ids.map((id, i) => ({
      id,
      compartmentId,
      displayName: `bench-${count}-${i}`,
      lifecycleState: "STOPPED",
      shape: "VM.Standard.E4.Flex",
    })),
  );
  const principal = await admin.mintPrincipalFor(compartmentId);
  const fnEnv = { ...opts.extraEnv };
  const byLevel: Record<string, number> = {};
  let logTotal = 0;
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile);

  const spawnStart = Date.now();
  const fn = await FnProcess.start({
    bundle: opts.bundle,
    env: { ...principal.env, OCI_COMPUTE_ENDPOINT: opts.url, OCI_ENDPOINT: opts.url, ...fnEnv },
    nodeArgs: [`--max-old-space-size=${profile.heapCapMb}`, ...(opts.extraNodeArgs ?? [])],
    onOutput: (_stream, line) => {
      logTotal++;
      log.write(`${line}\n`);
      const level = levelOf(line);
      byLevel[level] = (byLevel[level] ?? 0) + 1;
    },
  });
  const spawnMs = Date.now() - spawnStart;
  const pid = fn.pid;
  if (pid === undefined) throw new BenchError("function process has no pid");

  const body = JSON.stringify(
    opts.form === "compartment_id" ? { compartment_id: compartmentId } : { instance_ids: ids },
  );
  await admin.clearCalls();
  const sampler = new MemorySampler(pid);
  let memory: MemoryReading;
  let res: Awaited<ReturnType<FnProcess["call"]>>;
  const sentAt = Date.now();
  let answeredAt: number;
  try {
    try {
      res = await fn.call(body, { deadline: new Date(sentAt + profile.deadlineSeconds * 1000) });
    } catch (err) {
      throw new BenchError(
        `${opts.label}: the invocation failed (${(err as Error).message}); function alive: ${fn.alive}\n` +
          `function output (tail):\n${fn.output().split("\n").slice(-20).join("\n")}`,
      );
    }
    answeredAt = Date.now();
    memory = sampler.finish();
    if (!fn.alive) {
      throw new BenchError(`${opts.label}: the function process died after answering`);
    }
  } finally {
    sampler.finish();
    await fn.stop();
    await new Promise((done) => log.end(done));
  }

  const answer = parseAnswer(res, opts.label);
  if (answer.summary.requested !== count || answer.results.length !== count) {
    throw new BenchError(
      `${opts.label}: requested ${count} instances, the answer accounts for ${answer.summary.requested} ` +
        `(${answer.results.length} results)`,
    );
  }
  const calls = callStats(await admin.allCalls(), principal.principalId, count);
  const states = await admin.instances(ids);
  let lastRunningAt = 0;
  let notRunning = 0;
  for (const s of states) {
    const running = s.stateHistory.filter((h) => h.state === "RUNNING").at(-1);
    if (s.lifecycleState !== "RUNNING" || running === undefined) {
      notRunning++;
      continue;
    }
    lastRunningAt = Math.max(lastRunningAt, running.at);
  }
  const wallMs = answeredAt - sentAt;
  const lowerBoundMs = (count / profile.ratePerSecond) * 1000 + profile.transitionMs * profile.timeScale;
  return {
    label: opts.label,
    form: opts.form,
    count,
    spawnMs,
    wallMs,
    lowerBoundMs,
    ratioToLowerBound: wallMs / lowerBoundMs,
    ok: answer.ok,
    message: answer.message,
    summary: answer.summary,
    failures: failureCodes(answer),
    notRunning,
    calls,
    waitOverheadMs: notRunning === 0 && lastRunningAt > 0 ? answeredAt - lastRunningAt : null,
    memory,
    fnEnv,
    logLines: { total: logTotal, byLevel },
    logFile: relative(ROOT, opts.logFile),
  };
}
