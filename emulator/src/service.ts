/**
 * The contract between the emulator's request pipeline (signing, principals, faults, call log) and
 * the services added for issue 13 (instance pools, node pools, container instances). A service maps
 * a path to an operation before authentication (so the call log names it even on a 401), then runs
 * it with the authenticated principal. Retry-token replay is shared here so every service answers a
 * repeated token the same way.
 */
import type { IncomingMessage } from "node:http";
import { allows, type Principal } from "./auth.js";
import { invalidParameter, notFound } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import type { InstanceStore } from "./instances.js";
import type { Timings } from "./model.js";
import { isOcid } from "./ocid.js";
import type { ResourceJson, Tracked, TrackedStore } from "./tracked.js";

/** What a service may note on the call record. */
export interface CallNotes {
  operation: string;
  targetId?: string;
  action?: string;
  replayed: boolean;
  transition: boolean;
  fault?: string;
  retryToken?: string;
}

export interface ServiceAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ServiceCall {
  req: IncomingMessage;
  query: URLSearchParams;
  body: Buffer;
  principal: Principal;
  call: CallNotes;
  now: number;
}

export interface Routed {
  operation: string;
  targetId?: string;
  action?: string;
  run(c: ServiceCall): ServiceAnswer;
}

export interface Service {
  /** `parts` are the path segments after the API version. Undefined: no such route. */
  route(method: string, parts: readonly string[]): Routed | undefined;
}

/** What the services read from the emulator: its clock-scaled durations, faults and instances. */
export interface ServiceEnv {
  readonly region: string;
  readonly tenancyId: string;
  readonly timings: Timings;
  readonly faults: FaultInjector;
  readonly instances: InstanceStore;
}

/** A real-time duration for an action on `id`: the scaled duration plus any `hold` fault on it. */
export function durationFor(env: ServiceEnv, action: keyof Timings["durationsMs"], id: string): number {
  return env.timings.durationsMs[action] * env.timings.timeScale + Math.max(0, env.faults.holdMs(id));
}

/** The resource as the principal may see it, or the 404 OCI gives for both missing and forbidden. */
export function visible<J extends ResourceJson>(
  store: TrackedStore<J>,
  id: string,
  ocidType: string,
  c: ServiceCall,
): Tracked<J> {
  if (!isOcid(id, ocidType)) throw invalidParameter(`Malformed ${store.noun} OCID: ${id.slice(0, 300)}`);
  const record = store.get(id, c.now);
  if (!record || !allows(c.principal, record.json.compartmentId)) throw notFound(`${store.noun} ${id}`);
  return record;
}

const RETRY_CACHE_CAP = 100_000;

/** First 2xx answer per (principal, operation, target, opc-retry-token), replayed for repeats. */
export class RetryCache {
  readonly #answers = new Map<string, ServiceAnswer>();

  /** Runs `act` unless the same token already succeeded; errors are not cached. */
  answer(c: ServiceCall, targetId: string, act: () => ServiceAnswer): ServiceAnswer {
    const token = c.call.retryToken;
    const key = token ? `${c.principal.id}|${c.call.operation}|${targetId}|${token}` : undefined;
    const cached = key ? this.#answers.get(key) : undefined;
    if (cached) {
      c.call.replayed = true;
      return cached;
    }
    const answer = act();
    if (key && answer.status < 300) {
      // Frozen as sent: the resource object keeps changing after this answer.
      const frozen = answer.body === undefined ? answer : { ...answer, body: JSON.stringify(answer.body) };
      this.#answers.set(key, frozen);
      if (this.#answers.size > RETRY_CACHE_CAP) {
        const oldest = this.#answers.keys().next().value;
        if (oldest !== undefined) this.#answers.delete(oldest);
      }
    }
    return answer;
  }
}

/** Decode a path segment; a malformed escape is a 404 like any unknown id. */
export function segment(parts: readonly string[], i: number): string {
  const raw = parts[i] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** A list outside the principal's compartments answers 404 like an unknown compartment. */
export function visibleCompartment(c: ServiceCall, compartmentId: string): void {
  if (!allows(c.principal, compartmentId)) throw notFound(`compartment ${compartmentId}`);
}
