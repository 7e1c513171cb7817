/**
 * A mixed batch (issue 13): stopped instances, 3 instance pools, 3 node pools (size recorded in the
 * tag) and 10 container instances, started by one start-compute invocation with target_ids and waited
 * on. Reports wall time, API calls per target (from the emulator's call log) and peak RSS.
 */
import { FnProcess } from "../emulator/src/fn-agent.js";
import type { Admin } from "./emulator.js";
import { BenchError } from "./errors.js";
import { benchOcid } from "./ids.js";
import { MemorySampler } from "./memory.js";
import type { Profile } from "./profile.js";
import { parseAnswer } from "./response.js";

export interface MixedKindsResult {
  targets: Record<"instance" | "instance_pool" | "node_pool" | "container_instance", number>;
  wallMs: number;
  ok: boolean;
  message: string;
  calls: number;
  callsPerTarget: number;
  byOperation: Record<string, number>;
  peakRssMb: number | null;
}

export async function runMixedKinds(opts: {
  admin: Admin;
  url: string;
  bundle: string;
  instances: number;
  profile: Profile;
}): Promise<MixedKindsResult> {
  const { admin, profile } = opts;
  const compartmentId = benchOcid("compartment");
  const instances = await admin.putInstances(
    Array.from({ length: opts.instances }, () => ({ compartmentId, lifecycleState: "STOPPED" })),
  );
  const pools = await admin.putInstancePools(
    Array.from({ length: 3 }, () => ({ compartmentId, size: 2, lifecycleState: "STOPPED" })),
  );
  const nodePools = await admin.putNodePools(
    Array.from({ length: 3 }, (_, i) => ({
      compartmentId,
      name: `bench-${i}`,
      size: 0,
      freeformTags: { "power-previous-size": "3" },
    })),
  );
  const containers = await admin.putContainerInstances(
    Array.from({ length: 10 }, () => ({ compartmentId, lifecycleState: "INACTIVE" })),
  );
  const ids = [...instances, ...pools, ...nodePools, ...containers].map((t) => t.id);
  const principal = await admin.mintPrincipalFor(compartmentId);
  const fn = await FnProcess.start({
    bundle: opts.bundle,
    env: { ...principal.env, OCI_ENDPOINT: opts.url },
    nodeArgs: [`--max-old-space-size=${profile.heapCapMb}`],
  });
  if (fn.pid === undefined) throw new BenchError("mixed-kinds batch: the function process has no pid");
  const sampler = new MemorySampler(fn.pid);
  try {
    const since = (await admin.calls()).next;
    const sentAt = Date.now();
    const res = await fn.call(JSON.stringify({ target_ids: ids }), {
      deadline: new Date(sentAt + profile.deadlineSeconds * 1000),
    });
    const wallMs = Date.now() - sentAt;
    const answer = parseAnswer(res, "mixed-kinds batch");
    const { calls } = await admin.calls(since);
    const mine = calls.filter((c) => c.principal === undefined || c.principal === principal.principalId);
    const byOperation: Record<string, number> = {};
    for (const c of mine) byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
    if (answer.summary.changed !== ids.length) {
      throw new BenchError(`mixed-kinds batch: ${answer.message}`);
    }
    return {
      targets: {
        instance: instances.length,
        instance_pool: pools.length,
        node_pool: nodePools.length,
        container_instance: containers.length,
      },
      wallMs,
      ok: answer.ok,
      message: answer.message,
      calls: mine.length,
      callsPerTarget: mine.length / ids.length,
      byOperation,
      peakRssMb: sampler.finish().peakRssMb,
    };
  } finally {
    await fn.stop();
  }
}
