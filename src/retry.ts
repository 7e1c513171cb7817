/**
 * Retries for reads (GET, list) and the backoff shared with power actions: capped exponential
 * backoff with jitter, 429 honouring retry-after, all bounded by the batch deadline.
 */
import { sleep } from "./clock.js";
import type { Deadline } from "./deadline.js";
import { ComputeError, PowerError } from "./errors.js";
import type { CallScheduler } from "./pacing.js";

export interface RetryTuning {
  baseDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY_TUNING: RetryTuning = {
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxAttempts: 10,
  requestTimeoutMs: 20_000,
};

/** Delay before retry number `attempt` (0-based): full jitter on a capped exponential. */
export function backoffMs(attempt: number, tuning: RetryTuning, random: () => number = Math.random): number {
  const cap = Math.min(tuning.maxDelayMs, tuning.baseDelayMs * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * Runs a read through the scheduler, retrying transient errors until it succeeds, a definite error
 * comes back, attempts run out or the next try would start after the deadline.
 */
export async function readWithRetry<T>(
  read: (signal: AbortSignal) => Promise<T>,
  options: {
    scheduler: CallScheduler;
    deadline: Deadline;
    tuning: RetryTuning;
    priority?: "high" | "normal";
  },
): Promise<T> {
  const { scheduler, deadline, tuning } = options;
  const callOptions = {
    priority: options.priority ?? "high",
    timeoutMs: tuning.requestTimeoutMs,
    notAfter: deadline.at,
  } as const;
  for (let attempt = 0; ; attempt++) {
    try {
      return await scheduler.call(read, callOptions);
    } catch (error) {
      if (!(error instanceof ComputeError) || !error.transient) throw error;
      if (error.code === "NetworkError" && deadline.passed()) {
        throw new PowerError("DeadlineExceeded", "OCI did not answer before the deadline", { cause: error });
      }
      const delay = Math.max(backoffMs(attempt, tuning), error.retryAfterMs ?? 0);
      if (attempt + 1 >= tuning.maxAttempts || deadline.leavesNoTimeFor(delay)) throw error;
      await sleep(deadline.clock, delay);
    }
  }
}

export function asPowerError(error: unknown, context: string): PowerError {
  if (error instanceof PowerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new PowerError("InternalError", `${context}: ${detail.slice(0, 200)}`, { cause: error });
}
