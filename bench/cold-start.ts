/**
 * Cold start: process spawn → first answer, for the bundled function, a bare FDK hello world and the
 * unbundled build, interleaved round by round so that machine noise hits every variant alike.
 */
import { performance } from "node:perf_hooks";
import { FnProcess } from "../emulator/src/fn-agent.js";
import { BenchError } from "./errors.js";
import { rssOf } from "./memory.js";
import { parseAnswer } from "./response.js";
import { type Spread, spread } from "./stats.js";

export type ColdVariantKey = "bundled" | "bare" | "unbundled";

export interface ColdVariant {
  key: ColdVariantKey;
  label: string;
  bundle: string;
  /** Checks the first answer; throws when the run went wrong. */
  check: (res: Awaited<ReturnType<FnProcess["call"]>>) => void;
}

export interface ColdVariantResult {
  key: ColdVariantKey;
  label: string;
  bundle: string;
  /** Spawn → socket ready (the FDK's symlink appears), ms. */
  socketReady: Spread;
  /** Spawn → first answer received, ms. */
  firstAnswer: Spread;
  firstAnswerSamples: number[];
  /** Peak RSS (VmHWM) of the process right after its first answer, MiB. */
  peakRssAfterFirstAnswerMb: Spread;
}

export interface ColdStartResult {
  runs: number;
  warmupRounds: number;
  body: string;
  nodeArgs: string[];
  variants: ColdVariantResult[];
  ratioBundledToBare: number;
  ratioUnbundledToBare: number;
}

export function functionVariantCheck(instanceId: string): ColdVariant["check"] {
  return (res) => {
    const answer = parseAnswer(res, "cold-start dry run");
    const first = answer.results[0];
    if (!answer.ok || answer.results.length !== 1 || first?.outcome !== "planned") {
      throw new BenchError(
        `cold-start dry run on ${instanceId}: expected ok with one "planned" result, got ${res.body.slice(0, 300)}`,
      );
    }
  };
}

export function bareCheck(res: Awaited<ReturnType<FnProcess["call"]>>): void {
  if (res.status !== 200) throw new BenchError(`bare FDK function answered HTTP ${res.status}`);
}

async function once(
  variant: ColdVariant,
  env: Record<string, string>,
  body: string,
  nodeArgs: string[],
): Promise<{ readyMs: number; answerMs: number; rssMb: number | null }> {
  const t0 = performance.now();
  const fn = await FnProcess.start({ bundle: variant.bundle, env, nodeArgs });
  const readyMs = performance.now() - t0;
  try {
    const res = await fn.call(body, { deadline: new Date(Date.now() + 30_000) });
    const answerMs = performance.now() - t0;
    const rssMb = fn.pid === undefined ? null : rssOf(fn.pid).peakMb;
    try {
      variant.check(res);
    } catch (err) {
      const tail = fn.output().split("\n").slice(-20).join("\n");
      throw new BenchError(`${variant.label}: ${(err as Error).message}\nfunction output (tail):\n${tail}`);
    }
    return { readyMs, answerMs, rssMb };
  } finally {
    await fn.stop();
  }
}

export async function measureColdStart(opts: {
  variants: ColdVariant[];
  env: Record<string, string>;
  body: string;
  nodeArgs: string[];
  runs: number;
  warmupRounds: number;
  progress: (msg: string) => void;
}): Promise<ColdStartResult> {
  const ready = new Map<ColdVariantKey, number[]>();
  const answer = new Map<ColdVariantKey, number[]>();
  const rss = new Map<ColdVariantKey, number[]>();
  for (const v of opts.variants) {
    ready.set(v.key, []);
    answer.set(v.key, []);
    rss.set(v.key, []);
  }
  const rounds = opts.warmupRounds + opts.runs;
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs right after another.
    const order = opts.variants.map((_, i) => opts.variants[(i + round) % opts.variants.length]);
    for (const v of order) {
      if (v === undefined) continue;
      const sample = await once(v, opts.env, opts.body, opts.nodeArgs);
      if (round < opts.warmupRounds) continue;
      ready.get(v.key)?.push(sample.readyMs);
      answer.get(v.key)?.push(sample.answerMs);
      if (sample.rssMb !== null) rss.get(v.key)?.push(sample.rssMb);
    }
    if (round >= opts.warmupRounds && (round - opts.warmupRounds + 1) % 5 === 0) {
      opts.progress(`cold start: ${round - opts.warmupRounds + 1}/${opts.runs} rounds`);
    }
  }
  const variants = opts.variants.map((v) => ({
    key: v.key,
    label: v.label,
    bundle: v.bundle,
    socketReady: spread(ready.get(v.key) ?? []),
    firstAnswer: spread(answer.get(v.key) ?? []),
    firstAnswerSamples: answer.get(v.key) ?? [],
    peakRssAfterFirstAnswerMb: spread(rss.get(v.key) ?? []),
  }));
  const median = (key: ColdVariantKey): number =>
    variants.find((v) => v.key === key)?.firstAnswer.median ?? Number.NaN;
  return {
    runs: opts.runs,
    warmupRounds: opts.warmupRounds,
    body: opts.body,
    nodeArgs: opts.nodeArgs,
    variants,
    ratioBundledToBare: median("bundled") / median("bare"),
    ratioUnbundledToBare: median("unbundled") / median("bare"),
  };
}
