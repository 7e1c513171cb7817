/** Fault injection: rate limit per principal, random 500/503, drops, latency, capacity, holds. */
import { invalidParameter, OciHttpError } from "./errors.js";
import type { Faults, InstanceJson } from "./model.js";

interface Bucket {
  tokens: number;
  at: number;
}

/** mulberry32: small, fast, seedable; the same seed gives the same sequence of faults. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isFraction = (v: unknown): v is number => isNum(v) && v >= 0 && v <= 1;
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");

/** Validate an untrusted faults object; throws a 400 naming the bad field. */
export function parseFaults(input: unknown): Faults {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw invalidParameter("faults must be a JSON object.");
  }
  const f = input as Record<string, unknown>;
  const out: Faults = {};
  const obj = (key: string): Record<string, unknown> | undefined => {
    const v = f[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) throw invalidParameter(`faults.${key} must be an object.`);
    return v as Record<string, unknown>;
  };
  const rl = obj("rateLimit");
  if (rl) {
    if (!isNum(rl.perSecond) || rl.perSecond <= 0)
      throw invalidParameter("faults.rateLimit.perSecond must be > 0.");
    if (rl.burst !== undefined && (!isNum(rl.burst) || rl.burst < 1)) {
      throw invalidParameter("faults.rateLimit.burst must be >= 1.");
    }
    out.rateLimit = {
      perSecond: rl.perSecond,
      ...(rl.burst !== undefined ? { burst: rl.burst as number } : {}),
    };
  }
  const er = obj("errorRate");
  if (er) {
    if (!isFraction(er.fraction)) throw invalidParameter("faults.errorRate.fraction must be within [0, 1].");
    const statuses = er.statuses ?? [500, 503];
    if (!Array.isArray(statuses) || statuses.length === 0 || !statuses.every((s) => s === 500 || s === 503)) {
      throw invalidParameter("faults.errorRate.statuses must be a non-empty list of 500 and/or 503.");
    }
    out.errorRate = { fraction: er.fraction, statuses: statuses as number[] };
  }
  const dr = obj("dropRate");
  if (dr) {
    if (!isFraction(dr.fraction)) throw invalidParameter("faults.dropRate.fraction must be within [0, 1].");
    out.dropRate = { fraction: dr.fraction, afterProcessing: dr.afterProcessing === true };
  }
  const oc = obj("outOfCapacity");
  if (oc) {
    if (oc.instanceIds !== undefined && !isStringArray(oc.instanceIds)) {
      throw invalidParameter("faults.outOfCapacity.instanceIds must be a list of strings.");
    }
    if (oc.shapes !== undefined && !isStringArray(oc.shapes)) {
      throw invalidParameter("faults.outOfCapacity.shapes must be a list of strings.");
    }
    out.outOfCapacity = {
      instanceIds: (oc.instanceIds as string[]) ?? [],
      shapes: (oc.shapes as string[]) ?? [],
    };
  }
  if (f.latencyMs !== undefined && f.latencyMs !== null) {
    if (!isNum(f.latencyMs) || f.latencyMs < 0 || f.latencyMs > 600_000) {
      throw invalidParameter("faults.latencyMs must be within [0, 600000].");
    }
    out.latencyMs = f.latencyMs;
  }
  const hold = obj("hold");
  if (hold) {
    if (!isStringArray(hold.instanceIds))
      throw invalidParameter("faults.hold.instanceIds must be a list of strings.");
    if (!isNum(hold.ms) || hold.ms < 0) throw invalidParameter("faults.hold.ms must be >= 0.");
    out.hold = { instanceIds: hold.instanceIds, ms: hold.ms };
  }
  const cu = obj("concurrentUpdate");
  if (cu) {
    if (!isStringArray(cu.instanceIds))
      throw invalidParameter("faults.concurrentUpdate.instanceIds must be a list of strings.");
    out.concurrentUpdate = { instanceIds: cu.instanceIds };
  }
  if (f.refuseTokens !== undefined && f.refuseTokens !== null) {
    if (typeof f.refuseTokens !== "boolean")
      throw invalidParameter("faults.refuseTokens must be true or false.");
    if (f.refuseTokens) out.refuseTokens = true;
  }
  if (f.seed !== undefined && f.seed !== null) {
    if (!isNum(f.seed)) throw invalidParameter("faults.seed must be a number.");
    out.seed = f.seed;
  }
  return out;
}

export class FaultInjector {
  #faults: Faults = {};
  #random: () => number = Math.random;
  readonly #buckets = new Map<string, Bucket>();

  get current(): Faults {
    return this.#faults;
  }

  set(faults: Faults): void {
    this.#faults = faults;
    this.#random = faults.seed !== undefined ? rng(faults.seed) : Math.random;
    this.#buckets.clear();
  }

  get latencyMs(): number {
    return this.#faults.latencyMs ?? 0;
  }

  shouldDropBefore(): boolean {
    const d = this.#faults.dropRate;
    return d !== undefined && !d.afterProcessing && d.fraction > 0 && this.#random() < d.fraction;
  }

  shouldDropAfter(): boolean {
    const d = this.#faults.dropRate;
    return d !== undefined && d.afterProcessing === true && d.fraction > 0 && this.#random() < d.fraction;
  }

  /** Take one token from the principal's bucket, or throw 429 with retry-after (seconds). */
  rateLimit(principal: string, now: number): void {
    const rl = this.#faults.rateLimit;
    if (!rl) return;
    const burst = rl.burst ?? Math.max(1, Math.ceil(rl.perSecond));
    let b = this.#buckets.get(principal);
    if (!b) {
      b = { tokens: burst, at: now };
      this.#buckets.set(principal, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rl.perSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const waitS = Math.max(1, Math.ceil((1 - b.tokens) / rl.perSecond));
    throw new OciHttpError(429, "TooManyRequests", "Too many requests for the tenant.", {
      "retry-after": String(waitS),
    });
  }

  /** A random 500/503, if the error rate says so. */
  randomError(): void {
    const er = this.#faults.errorRate;
    if (!er || er.fraction <= 0 || this.#random() >= er.fraction) return;
    const statuses = er.statuses ?? [500, 503];
    const status = statuses[Math.floor(this.#random() * statuses.length)] ?? 500;
    if (status === 503) {
      throw new OciHttpError(503, "ServiceUnavailable", "Service unavailable (injected fault).");
    }
    throw new OciHttpError(500, "InternalError", "Internal error (injected fault).");
  }

  /** START on a chosen instance or shape fails the way OCI does when a host has no room. */
  checkCapacity(instance: InstanceJson): void {
    const oc = this.#faults.outOfCapacity;
    if (!oc) return;
    if (oc.instanceIds?.includes(instance.id) || oc.shapes?.includes(instance.shape)) {
      throw new OciHttpError(500, "InternalError", "Out of host capacity.");
    }
  }

  /** Whether `outOfCapacity.instanceIds` names this target (any kind: pools, node pools, container instances). */
  outOfCapacityFor(targetId: string, shape?: string): boolean {
    const oc = this.#faults.outOfCapacity;
    if (!oc) return false;
    return (
      oc.instanceIds?.includes(targetId) === true ||
      (shape !== undefined && oc.shapes?.includes(shape) === true)
    );
  }

  /** Whether someone else should change this instance right after it was read (fault `concurrentUpdate`). */
  concurrentUpdate(instanceId: string): boolean {
    return this.#faults.concurrentUpdate?.instanceIds.includes(instanceId) ?? false;
  }

  /** Fault refuseTokens: the region refuses resource and instance principals' security tokens. */
  get refusesTokens(): boolean {
    return this.#faults.refuseTokens === true;
  }

  holdMs(instanceId: string): number {
    const h = this.#faults.hold;
    return h?.instanceIds.includes(instanceId) ? h.ms : 0;
  }
}
