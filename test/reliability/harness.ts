/**
 * Helpers shared by the reliability suite (and bench/soak.ts): a seeded PRNG so every random choice
 * is reproducible from the seed printed in the test name, the call-log check that no instance got a
 * second power action, and secret scanning that never prints what it looks for.
 */
import type { CallRecord } from "../../emulator/src/index.js";
import type { PowerResponse } from "../../src/response.js";

/** The emulator's seeded PRNG (mulberry32), to pick deadlines and instances reproducibly. */
export { rng as seeded } from "../../emulator/src/faults.js";

/** A seed from the environment (RELIABILITY_SEED) or the clock, so a failing run can be replayed. */
export function suiteSeed(): number {
  const fromEnv = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : (Date.now() % 1_000_000) + 1;
}

/**
 * Per instance, from the emulator's call log: the power actions that took effect (answered 2xx, or
 * processed and then dropped) must all carry one retry token; at most one of them started a
 * transition and every other one was replayed from the retry-token cache. Returns the violations
 * (empty when none), so a failure says which instance and why.
 */
export function secondActionViolations(calls: readonly CallRecord[], ids: readonly string[]): string[] {
  const wanted = new Set(ids);
  const byInstance = new Map<string, CallRecord[]>();
  for (const c of calls) {
    if (c.operation !== "InstanceAction" || !c.instanceId || !wanted.has(c.instanceId)) continue;
    const list = byInstance.get(c.instanceId) ?? [];
    list.push(c);
    byInstance.set(c.instanceId, list);
  }
  const problems: string[] = [];
  for (const [id, actions] of byInstance) {
    const effective = actions.filter((c) => (c.status >= 200 && c.status < 300) || c.fault === "dropAfter");
    const transitions = effective.filter((c) => c.transition);
    if (transitions.length > 1) {
      problems.push(
        `${id}: ${transitions.length} transitions (seq ${transitions.map((c) => c.seq).join(",")})`,
      );
    }
    const tokens = new Set(effective.map((c) => c.retryToken ?? "(none)"));
    if (tokens.size > 1) problems.push(`${id}: effective actions with ${tokens.size} different retry tokens`);
    if (effective.some((c) => !c.retryToken)) problems.push(`${id}: a power action without opc-retry-token`);
    // Only the first action that took effect may have been processed; every later one must be an
    // answer replayed from the retry-token cache.
    for (const c of effective.slice(1)) {
      if (!c.replayed) problems.push(`${id}: action seq ${c.seq} took effect again without a replay`);
    }
  }
  return problems;
}

/** The summary adds up, and every requested id appears exactly once, in order. */
export function accountingProblems(body: PowerResponse, ids: readonly string[]): string[] {
  const problems: string[] = [];
  const results = body.results ?? [];
  const s = body.summary;
  if (!s) return ["no summary"];
  const total = s.changed + s.unchanged + s.skipped + s.in_progress + s.failed + s.planned;
  if (s.requested !== ids.length) problems.push(`summary.requested ${s.requested} != ${ids.length}`);
  if (total !== s.requested) problems.push(`summary adds up to ${total}, not ${s.requested}`);
  if (results.length !== ids.length) problems.push(`${results.length} results for ${ids.length} ids`);
  const seen = new Map<string, number>();
  for (const r of results) seen.set(r.target_id, (seen.get(r.target_id) ?? 0) + 1);
  for (const id of ids) {
    const n = seen.get(id) ?? 0;
    if (n !== 1) problems.push(`${id} appears ${n} times`);
  }
  for (const id of seen.keys()) if (!ids.includes(id)) problems.push(`${id} was not requested`);
  const counted: Record<string, number> = {};
  for (const r of results) counted[r.outcome] = (counted[r.outcome] ?? 0) + 1;
  for (const o of ["changed", "unchanged", "skipped", "in_progress", "failed", "planned"] as const) {
    if ((counted[o] ?? 0) !== s[o]) problems.push(`summary.${o} ${s[o]} but ${counted[o] ?? 0} results`);
  }
  for (const r of results) {
    if (typeof r.reason !== "string" || r.reason.trim() === "")
      problems.push(`${r.instance_id} has no reason`);
  }
  if (body.ok !== (s.failed === 0)) problems.push(`ok is ${body.ok} with ${s.failed} failed`);
  return problems;
}

/**
 * Fragments of a secret worth scanning for: the whole value, and for PEMs and JWTs their parts
 * (each base64 line of the PEM body, each JWT segment, and 24-character windows across them).
 */
export function secretFragments(secret: string): string[] {
  const out = new Set<string>();
  const trimmed = secret.trim();
  if (trimmed.length >= 16) out.add(trimmed);
  const pemBody = trimmed
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("-----"));
  const parts = trimmed.includes("-----BEGIN") ? pemBody : trimmed.split(".");
  for (const part of parts) {
    if (part.length >= 16) out.add(part);
    for (let i = 0; i + 24 <= part.length; i += 24) out.add(part.slice(i, i + 24));
  }
  return [...out];
}

/** True when any fragment of any secret appears in the text. Never returns or prints the secret. */
export function leaksAny(text: string, secrets: readonly string[]): boolean {
  for (const secret of secrets) {
    for (const fragment of secretFragments(secret)) if (text.includes(fragment)) return true;
  }
  return false;
}
