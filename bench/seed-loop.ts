/**
 * The seed hands-on's approach, rebuilt for comparison: for one instance after another, send START,
 * then sleep a fixed 10 s (time-scaled like the transition) and GET until RUNNING. It runs in this
 * process with the real oci-core ComputeClient against the emulator, signed as the same kind of
 * resource principal the function gets.
 */
import { ResourcePrincipalAuthenticationDetailsProvider } from "oci-common";
import { ComputeClient } from "oci-core";
import type { Admin } from "./emulator.js";
import { BenchError } from "./errors.js";
import { benchOcid } from "./ids.js";
import type { Profile } from "./profile.js";

export interface SeedLoopResult {
  instances: number;
  wallMs: number;
  perInstanceMs: number;
  sleepMs: number;
  calls: number;
  callsPerInstance: number;
  throttled: number;
  /** Mean of (loop noticed RUNNING) − (emulator reached RUNNING), ms. */
  meanWaitOverheadMs: number;
}

const RP_KEYS = [
  "OCI_RESOURCE_PRINCIPAL_VERSION",
  "OCI_RESOURCE_PRINCIPAL_RPST",
  "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
  "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE",
  "OCI_RESOURCE_PRINCIPAL_REGION",
] as const;

/** The SDK's provider reads process.env only: set the principal's env for the build, then restore it. */
function resourcePrincipalProvider(
  env: Record<string, string>,
): ResourcePrincipalAuthenticationDetailsProvider {
  const saved = new Map<string, string | undefined>(RP_KEYS.map((k) => [k, process.env[k]]));
  try {
    for (const k of RP_KEYS) {
      const v = env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    return ResourcePrincipalAuthenticationDetailsProvider.builder();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runSeedLoop(opts: {
  admin: Admin;
  url: string;
  instances: number;
  profile: Profile;
}): Promise<SeedLoopResult> {
  const { admin, profile } = opts;
  const compartmentId = benchOcid("compartment");
  const ids = Array.from({ length: opts.instances }, () => benchOcid("instance"));
  await admin.seedInstances(
    ids.map((id, i) => ({
      id,
      compartmentId,
      displayName: `seed-loop-${i}`,
      lifecycleState: "STOPPED",
      shape: "VM.Standard.E4.Flex",
    })),
  );
  const principal = await admin.mintPrincipalFor(compartmentId);
  const client = new ComputeClient({
    authenticationDetailsProvider: resourcePrincipalProvider(principal.env),
  });
  client.endpoint = opts.url;
  const sleepMs = profile.seedSleepMs * profile.timeScale;

  await admin.clearCalls();
  const noticedAt = new Map<string, number>();
  const started = Date.now();
  for (const id of ids) {
    try {
      await client.instanceAction({ instanceId: id, action: "START" });
      for (;;) {
        await sleep(sleepMs);
        const { instance } = await client.getInstance({ instanceId: id });
        if (instance.lifecycleState === "RUNNING") break;
        if (Date.now() - started > 30 * 60_000)
          throw new BenchError(`seed loop: ${id} never reached RUNNING`);
      }
      noticedAt.set(id, Date.now());
    } catch (err) {
      if (err instanceof BenchError) throw err;
      const e = err as { statusCode?: unknown; serviceCode?: unknown; message?: unknown };
      throw new BenchError(
        `seed loop: a call failed (${String(e.statusCode)} ${String(e.serviceCode)}: ${String(e.message)})`,
      );
    }
  }
  const wallMs = Date.now() - started;
  client.close();

  const calls = await admin.allCalls();
  const states = await admin.instances(ids);
  let overheadSum = 0;
  for (const s of states) {
    const running = s.stateHistory.filter((h) => h.state === "RUNNING").at(-1);
    const noticed = noticedAt.get(s.id);
    if (running === undefined || noticed === undefined) {
      throw new BenchError(`seed loop: ${s.id} has no RUNNING in its state history`);
    }
    overheadSum += noticed - running.at;
  }
  return {
    instances: opts.instances,
    wallMs,
    perInstanceMs: wallMs / opts.instances,
    sleepMs,
    calls: calls.length,
    callsPerInstance: calls.length / opts.instances,
    throttled: calls.filter((c) => c.status === 429).length,
    meanWaitOverheadMs: overheadSum / opts.instances,
  };
}
