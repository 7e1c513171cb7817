/**
 * Integration harness: the BUILT bundles run as processes under the Fn contract (FnProcess) against
 * an in-process emulator, authenticated as a resource principal the emulator minted.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FnCallOptions, FnResponse } from "../../emulator/src/fn-agent.js";
import { FnProcess } from "../../emulator/src/fn-agent.js";
import { type RunningEmulator, startEmulator } from "../../emulator/src/index.js";
import type { PowerResponse } from "../../src/response.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const BUNDLES = {
  start: join(root, "start-compute/dist/func.js"),
  stop: join(root, "stop-compute/dist/func.js"),
} as const;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Fails with a clear message when the bundles are missing or older than src/. */
export function requireBuiltBundles(): void {
  const sources = Math.max(newestSource(join(root, "src")), statSync(join(root, "scripts/build.ts")).mtimeMs);
  for (const bundle of Object.values(BUNDLES)) {
    let built: number;
    try {
      built = statSync(bundle).mtimeMs;
    } catch {
      throw new Error(
        `${bundle} is missing: run \`npm run build\` before the integration tests (npm test does)`,
      );
    }
    if (built < sources) {
      throw new Error(
        `${bundle} is older than src/: run \`npm run build\` before the integration tests (npm test does)`,
      );
    }
  }
}

export interface Called {
  status: number;
  /** Fn-Http-Status set by the function (gateway status). */
  gatewayStatus: number | undefined;
  body: PowerResponse;
  raw: FnResponse;
}

export interface World {
  emu: RunningEmulator;
  /** Env a deployed function would get (resource principal + endpoint + config). */
  env: Record<string, string>;
  /** Every line the function processes wrote. */
  logs: string[];
  fn(kind: "start" | "stop", extraEnv?: Record<string, string>): Promise<FnProcess>;
  call(
    fn: FnProcess,
    body: unknown,
    options?: Partial<FnCallOptions> & { budgetMs?: number },
  ): Promise<Called>;
  close(): Promise<void>;
}

export interface WorldSetup {
  timeScale?: number;
  compartments?: string[];
  /**
   * More regions the emulator serves besides its default (us-ashburn-1); with any, the functions get
   * OCI_ENDPOINT_TEMPLATE (every region at its own prefix) as a multi-region deployment would.
   */
  regions?: readonly string[];
}

export async function world(options: WorldSetup = {}): Promise<World> {
  requireBuiltBundles();
  const emu = await startEmulator({
    timeScale: options.timeScale ?? 0.01,
    ...(options.regions ? { regions: options.regions } : {}),
  });
  const rp = await emu.admin.mintResourcePrincipal({
    compartmentId: emu.tenancyId,
    ...(options.compartments ? { compartments: options.compartments } : {}),
  });
  // POWER_MAX_RATE: the tests' emulator has no rate limit unless a test sets one; pace faster than
  // the default so the suite stays quick.
  const env: Record<string, string> = {
    ...rp.env,
    OCI_COMPUTE_ENDPOINT: emu.url,
    OCI_ENDPOINT: emu.url,
    POWER_MAX_RATE: "100",
    ...(options.regions?.length ? { OCI_ENDPOINT_TEMPLATE: `${emu.url}/{region}` } : {}),
    // Each invocation's PostMetricData would be one more call in the call log the Compute tests read;
    // test/integration/metrics-triggers.test.ts turns metrics on and checks them.
    METRICS: "off",
  };
  const logs: string[] = [];
  const processes: FnProcess[] = [];
  return {
    emu,
    env,
    logs,
    async fn(kind, extraEnv = {}) {
      const p = await FnProcess.start({
        bundle: BUNDLES[kind],
        env: { ...env, ...extraEnv },
        onOutput: (_stream, line) => logs.push(line),
      });
      processes.push(p);
      return p;
    },
    async call(fn, body, opts = {}) {
      const raw = await fn.call(typeof body === "string" ? body : JSON.stringify(body), {
        deadline: opts.deadline ?? new Date(Date.now() + (opts.budgetMs ?? 30_000)),
        ...(opts.callId ? { callId: opts.callId } : {}),
        ...(opts.headers ? { headers: opts.headers } : {}),
      });
      const gateway = raw.headers["fn-http-status"];
      return {
        status: raw.status,
        gatewayStatus: gateway === undefined ? undefined : Number(gateway),
        body: JSON.parse(raw.body) as PowerResponse,
        raw,
      };
    },
    async close() {
      await Promise.all(processes.map((p) => p.stop()));
      await emu.close();
    },
  };
}
