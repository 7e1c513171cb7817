/**
 * One world per test file: `useWorld()` registers the beforeAll/afterAll that start an emulator
 * and the built functions, and close them, so the files that need a world do not copy that setup.
 * The returned object reads like the World itself, plus the started functions.
 */
import { afterAll, beforeAll } from "vitest";
import type { FnProcess } from "../../emulator/src/fn-agent.js";
import { type World, world } from "./integration.js";

type FnKind = "start" | "stop";

export interface UsedWorld extends World {
  /** The start-compute process (when asked for in `functions`). */
  readonly start: FnProcess;
  /** The stop-compute process (when asked for in `functions`). */
  readonly stop: FnProcess;
}

export interface WorldOptions {
  timeScale?: number;
  compartments?: string[];
  /** More regions the emulator serves (see WorldSetup). */
  regions?: readonly string[];
  /** Functions started once for the whole file (default both). */
  functions?: readonly FnKind[];
}

export function useWorld(options: WorldOptions = {}): UsedWorld {
  let current: World | undefined;
  const fns: Partial<Record<FnKind, FnProcess>> = {};
  beforeAll(async () => {
    const { functions = ["start", "stop"], ...worldOptions } = options;
    current = await world(worldOptions);
    for (const kind of functions) fns[kind] = await current.fn(kind);
  });
  afterAll(async () => await current?.close());
  const ready = (): World => {
    if (!current) throw new Error("the world was used before its beforeAll ran");
    return current;
  };
  const fnOf = (kind: FnKind): FnProcess => {
    const fn = fns[kind];
    if (!fn) throw new Error(`useWorld() was not asked to start the ${kind} function`);
    return fn;
  };
  return {
    get emu() {
      return ready().emu;
    },
    get env() {
      return ready().env;
    },
    get logs() {
      return ready().logs;
    },
    fn: (kind, extraEnv) => ready().fn(kind, extraEnv),
    call: (fn, body, callOptions) => ready().call(fn, body, callOptions),
    close: () => ready().close(),
    get start() {
      return fnOf("start");
    },
    get stop() {
      return fnOf("stop");
    },
  };
}
