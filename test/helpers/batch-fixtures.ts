/** Shared fixtures for unit tests of the batch and the handler: ids, fast tuning, a config. */
import type { BatchTuning } from "../../src/batch.js";
import type { FunctionConfig } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";

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
