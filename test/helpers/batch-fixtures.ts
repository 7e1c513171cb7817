/** Shared fixtures for unit tests of the batch and the handler: ids, fast tuning, a config. */
import { vi } from "vitest";
import type { BatchTuning } from "../../src/batch.js";
import type { FunctionConfig } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";
import type { PowerRequest, Targets } from "../../src/request.js";

export const COMP_A = "ocid1.compartment.oc1..compa";
export const COMP_B = "ocid1.compartment.oc1..compb";

export function instanceId(n: number, region = "iad"): string {
  return `ocid1.instance.oc1.${region}.fake${String(n).padStart(4, "0")}`;
}

/** Everything in milliseconds scaled down ~50x so unit tests stay fast. */
export const FAST: Partial<BatchTuning> = {
  retry: { baseDelayMs: 5, maxDelayMs: 40, maxAttempts: 10, requestTimeoutMs: 2000 },
  watch: { fastPollMs: 20, slowPollMs: 80, firstPollMs: 10, bulkThreshold: 3, eagerBulkBelow: 50 },
  smallSet: 3,
  staleGraceMs: 100,
  maxRedecisions: 5,
  safetyMs: 100,
};

export function config(overrides: Partial<FunctionConfig> = {}): FunctionConfig {
  return {
    allowedCompartmentIds: undefined,
    maxConcurrency: 16,
    maxRate: 1000,
    logLevel: "info",
    ...overrides,
  };
}

export const quietLogger = silentLogger;

/** A START request with the parser's defaults; ids (a list) or any target form, with overrides. */
export function powerRequest(
  targets: Targets | string[],
  overrides: Partial<PowerRequest> = {},
): PowerRequest {
  return {
    action: "START",
    targets: Array.isArray(targets) ? { kind: "ids", ids: targets } : targets,
    wait: true,
    timeoutSeconds: undefined,
    dryRun: false,
    ...overrides,
  };
}

/**
 * Runs work to its end on fake time (vi.useFakeTimers in the caller): time jumps from one timer to
 * the next, nothing sleeps.
 */
export async function onFakeTime<T>(work: Promise<T>): Promise<T> {
  await vi.runAllTimersAsync();
  return await work;
}
