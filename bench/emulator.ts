/**
 * The benchmark's view of the emulator: started in-process, driven through its typed admin client
 * (EmulatorAdmin), plus the few bench-specific reads (drain the call log, many instances with history).
 */
import {
  type CallRecord,
  EmulatorAdmin,
  type EmulatorState,
  type InstanceWithHistory,
  startEmulator,
} from "../emulator/src/index.js";
import { BenchError } from "./errors.js";

export type { CallRecord, InstanceWithHistory } from "../emulator/src/index.js";

export interface BenchEmulator {
  url: string;
  admin: Admin;
  close(): Promise<void>;
}

export async function startBenchEmulator(state: EmulatorState, timeScale: number): Promise<BenchEmulator> {
  const running = await startEmulator({ port: 0, state, timeScale });
  const url = running.url;
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

/** The admin client with the bench's own conveniences; admin answers carrying keys are never echoed. */
export class Admin extends EmulatorAdmin {
  /** Seeds in chunks so no admin request body nears the emulator's 1 MiB cap. */
  async seedInstances(instances: readonly SeedInstance[]): Promise<void> {
    const CHUNK = 500;
    for (let i = 0; i < instances.length; i += CHUNK) {
      await this.putInstances(instances.slice(i, i + CHUNK));
    }
  }

  async mintPrincipalFor(compartmentId: string): Promise<ResourcePrincipal> {
    const out = await this.mintResourcePrincipal({ compartmentId }).catch((err: unknown) => {
      // The error text could carry the answer: report only that it failed.
      throw new BenchError(
        `emulator could not mint a resource principal (${err instanceof Error ? err.name : "error"})`,
      );
    });
    return { principalId: out.principalId, env: { ...out.env } };
  }

  /** Every call logged since the last clearCalls(), following `next` until the log is drained. */
  async allCalls(): Promise<CallRecord[]> {
    const all: CallRecord[] = [];
    let since = 0;
    for (let page = 0; page < 10_000; page++) {
      const out = await this.calls(since);
      all.push(...out.calls);
      if (out.calls.length === 0 || out.next <= since) break;
      since = out.next;
    }
    return all;
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
        out[i] = await this.getInstance(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    return out;
  }
}
