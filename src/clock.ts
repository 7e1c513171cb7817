/**
 * The one clock of an invocation: the handler picks it (the system clock by default) and passes it
 * down to the batch, the scheduler, retries and the watcher, so that tests can drive time with fake
 * timers instead of sleeping, and so that no module reads the wall clock on its own.
 */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs fn once after ms (0 if negative); returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** Reads Date.now and the global timers at call time, so vitest's fake timers drive it too. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.after(ms, resolve);
  });
}
