/**
 * The benchmark's view of the emulator: start it in-process and speak its admin API over HTTP.
 *
 * Only the documented HTTP routes (docs/ARCHITECTURE.md, "Emulator admin API") are used, so the bench
 * depends on the wire contract, not on the emulator's internal types.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EmulatorState, StateChange } from "../emulator/src/model.js";
import { BenchError } from "./errors.js";

export interface BenchEmulator {
  url: string;
  admin: Admin;
  close(): Promise<void>;
}

interface EmulatorModule {
  startEmulator(options: { port: number; state?: EmulatorState; timeScale?: number }): Promise<{
    url: string;
    close(): Promise<void>;
  }>;
}

function isEmulatorModule(mod: unknown): mod is EmulatorModule {
  return (
    typeof mod === "object" &&
    mod !== null &&
    typeof (mod as { startEmulator?: unknown }).startEmulator === "function"
  );
}

const EMULATOR_ENTRY = new URL("../emulator/src/index.ts", import.meta.url);

export async function startBenchEmulator(state: EmulatorState, timeScale: number): Promise<BenchEmulator> {
  if (!existsSync(fileURLToPath(EMULATOR_ENTRY))) {
    throw new BenchError(
      "the emulator is not there yet: emulator/src/index.ts (startEmulator) is missing, so nothing can be measured",
    );
  }
  // Imported at run time so a missing or half-built emulator is reported as such, not as a type error.
  const mod: unknown = await import(EMULATOR_ENTRY.href);
  if (!isEmulatorModule(mod)) {
    throw new BenchError("emulator/src/index.ts does not export startEmulator(): cannot run the benchmark");
  }
  const running = await mod.startEmulator({ port: 0, state, timeScale });
  const url = running.url.replace(/\/+$/, "");
  if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(url)) {
    await running.close();
    throw new BenchError(`the emulator answered with a non-loopback url (${url}); refusing to use it`);
  }
  const admin = new Admin(url);
  await admin.health();
  return { url, admin, close: () => running.close() };
}

export interface SeedInstance {
  id: string;
  compartmentId: string;
  displayName: string;
  lifecycleState: string;
  shape: string;
}

export interface ResourcePrincipal {
  principalId: string;
  /** The exact env the function gets from OCI Functions. Secret: never print it. */
  env: Record<string, string>;
}

export interface CallRecord {
  seq: number;
  at: number;
  method: string;
  path: string;
  operation: string;
  instanceId?: string;
  action?: string;
  principal?: string;
  status: number;
  serviceCode?: string;
  retryToken?: string;
  replayed?: boolean;
  transition?: boolean;
}

export interface InstanceWithHistory {
  id: string;
  lifecycleState: string;
  stateHistory: StateChange[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A minimal client of the emulator's admin routes. */
export class Admin {
  constructor(readonly baseUrl: string) {}

  async #send(method: string, path: string, body?: unknown, secret = false): Promise<unknown> {
    const init: RequestInit = { method, headers: { "content-type": "application/json" } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${this.baseUrl}/_emulator${path}`, init);
    const text = await res.text();
    if (!res.ok) {
      // A principal's answer carries a private key: never echo it.
      const detail = secret ? "" : `: ${text.slice(0, 300)}`;
      throw new BenchError(`emulator admin ${method} /_emulator${path} answered ${res.status}${detail}`);
    }
    if (text === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BenchError(`emulator admin ${method} /_emulator${path} answered non-JSON`);
    }
  }

  async health(): Promise<void> {
    await this.#send("GET", "/health");
  }

  async seedInstances(instances: readonly SeedInstance[]): Promise<void> {
    const CHUNK = 500;
    for (let i = 0; i < instances.length; i += CHUNK) {
      await this.#send("POST", "/instances", { instances: instances.slice(i, i + CHUNK) });
    }
  }

  async mintResourcePrincipal(compartmentId: string): Promise<ResourcePrincipal> {
    const out = await this.#send("POST", "/principals/resource", { compartmentId }, true);
    if (!isRecord(out) || typeof out.principalId !== "string" || !isRecord(out.env)) {
      throw new BenchError("emulator /_emulator/principals/resource answered without {principalId, env}");
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(out.env)) {
      if (typeof v !== "string") throw new BenchError(`principal env ${k} is not a string`);
      env[k] = v;
    }
    if (env.OCI_RESOURCE_PRINCIPAL_VERSION === undefined) {
      throw new BenchError("principal env lacks OCI_RESOURCE_PRINCIPAL_VERSION");
    }
    return { principalId: out.principalId, env };
  }

  async setFaults(faults: Record<string, unknown>): Promise<void> {
    await this.#send("PUT", "/faults", faults);
  }

  async setTimings(timings: { timeScale?: number; durationsMs?: Record<string, number> }): Promise<void> {
    await this.#send("PUT", "/timings", timings);
  }

  async clearCalls(): Promise<void> {
    await this.#send("DELETE", "/calls");
  }

  /** Every call logged since the last clearCalls(), following `next` until the log is drained. */
  async calls(): Promise<CallRecord[]> {
    const all: CallRecord[] = [];
    let since = 0;
    for (let page = 0; page < 10_000; page++) {
      const out = await this.#send("GET", `/calls?since=${since}`);
      if (!isRecord(out) || !Array.isArray(out.calls)) {
        throw new BenchError("emulator /_emulator/calls answered without a calls array");
      }
      const batch = out.calls as CallRecord[];
      all.push(...batch);
      const next = typeof out.next === "number" ? out.next : undefined;
      if (batch.length === 0 || next === undefined || next <= since) break;
      since = next;
    }
    // `since` semantics (exclusive or inclusive) are not pinned down: drop duplicates by seq.
    const bySeq = new Map<number, CallRecord>();
    for (const c of all) bySeq.set(c.seq, c);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  async instance(id: string): Promise<InstanceWithHistory> {
    const out = await this.#send("GET", `/instances/${encodeURIComponent(id)}`);
    if (!isRecord(out) || typeof out.lifecycleState !== "string" || !Array.isArray(out.stateHistory)) {
      throw new BenchError(
        `emulator /_emulator/instances/${id} answered without lifecycleState/stateHistory`,
      );
    }
    return { id, lifecycleState: out.lifecycleState, stateHistory: out.stateHistory as StateChange[] };
  }

  /** Reads many instances with a small pool (the admin API has no bulk read with history). */
  async instances(ids: readonly string[], concurrency = 16): Promise<InstanceWithHistory[]> {
    const out: InstanceWithHistory[] = new Array(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        const id = ids[i];
        if (id === undefined) return;
        out[i] = await this.instance(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    return out;
  }
}
