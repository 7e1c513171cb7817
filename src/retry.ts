/**
 * Retries for reads (GET, list) and the backoff shared with power actions: capped exponential
 * backoff with jitter, 429 honouring retry-after, all bounded by the batch deadline.
 */
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Runs one request with its own timeout (capped by the deadline), started when the request starts
 * (not while it waits in the scheduler's queue), and clears the timer afterwards so nothing is kept
 * alive by it.
 */
export async function withTimeout<T>(
  ms: number,
  deadlineAt: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(1, Math.min(ms, deadlineAt - Date.now())));
  try {
    return await run(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a read through the scheduler, retrying transient errors until it succeeds, a definite error
 * comes back, attempts run out or the next try would start after the deadline.
 */
export async function readWithRetry<T>(
  read: (signal: AbortSignal) => Promise<T>,
  options: {
    scheduler: CallScheduler;
    deadlineAt: number;
    tuning: RetryTuning;
    priority?: "high" | "normal";
  },
): Promise<T> {
  const { scheduler, deadlineAt, tuning } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await scheduler.schedule(() => withTimeout(tuning.requestTimeoutMs, deadlineAt, read), {
        priority: options.priority ?? "high",
        notAfter: deadlineAt,
      });
      scheduler.succeeded();
      return value;
    } catch (error) {
      if (!(error instanceof ComputeError) || !error.transient) throw error;
      if (error.code === "TooManyRequests") scheduler.throttled();
      if (error.code === "NetworkError" && Date.now() >= deadlineAt) {
        throw new PowerError("DeadlineExceeded", "OCI did not answer before the deadline", { cause: error });
      }
      const delay = Math.max(backoffMs(attempt, tuning), error.retryAfterMs ?? 0);
      if (attempt + 1 >= tuning.maxAttempts || Date.now() + delay >= deadlineAt) throw error;
      await sleep(delay);
    }
  }
}

export function asPowerError(error: unknown, context: string): PowerError {
  if (error instanceof PowerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new PowerError("InternalError", `${context}: ${detail.slice(0, 200)}`, { cause: error });
}
