/**
 * The Compute port contract against the OCI adapter (real oci-core ComputeClient, real signing as a
 * resource principal) talking to the emulator; plus what only the real path has: pagination over
 * opc-next-page, retry-after on 429, dropped connections, out-of-capacity answers.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/src/index.js";
import type { ComputePort } from "../../src/compute.js";
import { ComputeError } from "../../src/errors.js";
import { createOciCompute } from "../../src/oci-compute.js";
import { CONTRACT_COMPARTMENT, describeComputeContract } from "../helpers/compute-contract.js";

let emu: RunningEmulator;
let port: ComputePort;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 0.002 });
  const rp = await emu.admin.mintResourcePrincipal({ compartmentId: CONTRACT_COMPARTMENT });
  // The SDK's resource-principal provider reads process.env.
  for (const [k, v] of Object.entries(rp.env)) vi.stubEnv(k, v);
  vi.stubEnv("OCI_COMPUTE_ENDPOINT", emu.url);
  port = (await createOciCompute({ ...process.env })).compute;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await emu?.close();
});

describeComputeContract("OCI adapter against the emulator", () => ({
  get port() {
    return port;
  },
  settleMs: 150,
  seed: async (instances) => {
    await emu.admin.putInstances(instances);
  },
  hold: async (instanceIds) => {
    await emu.admin.setFaults({ hold: { instanceIds, ms: 600_000 } });
    return async () => {
      await emu.admin.setFaults({});
    };
  },
}));

async function computeError(p: Promise<unknown>): Promise<ComputeError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ComputeError);
    return error as ComputeError;
  }
  throw new Error("expected a ComputeError");
}

describe("OCI adapter: what only the wire has", () => {
  it("listInstances follows opc-next-page across pages", async () => {
    const compartmentId = "ocid1.compartment.oc1..paged";
    await emu.admin.putInstances(
      Array.from({ length: 1203 }, (_, i) => ({
        compartmentId,
        displayName: `p-${i}`,
        lifecycleState: "STOPPED",
      })),
    );
    await emu.admin.clearCalls();
    const views = await port.listInstances(compartmentId);
    expect(views).toHaveLength(1203);
    expect(new Set(views.map((v) => v.id)).size).toBe(1203);
    const { calls } = await emu.admin.calls();
    expect(calls.filter((c) => c.operation === "ListInstances")).toHaveLength(2);
  });

  it("429 carries retry-after; 5xx is transient; the SDK prints nothing", async () => {
    const [i] = await emu.admin.putInstances([
      { compartmentId: CONTRACT_COMPARTMENT, lifecycleState: "RUNNING" },
    ]);
    const id = i?.id ?? "";
    const warn = vi.spyOn(console, "warn");
    try {
      await emu.admin.setFaults({ rateLimit: { perSecond: 1, burst: 1 } });
      await port.getInstance(id).catch(() => undefined);
      const throttled = await computeError(port.getInstance(id));
      expect(throttled).toMatchObject({ code: "TooManyRequests", status: 429, transient: true });
      expect(throttled.retryAfterMs).toBeGreaterThanOrEqual(1000);
      await emu.admin.setFaults({ errorRate: { fraction: 1, statuses: [503] } });
      expect(await computeError(port.getInstance(id))).toMatchObject({
        code: "ServiceError",
        status: 503,
        transient: true,
      });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      await emu.admin.setFaults({});
    }
  });

  it("a dropped connection is a NetworkError whose outcome is unknown", async () => {
    const [i] = await emu.admin.putInstances([
      { compartmentId: CONTRACT_COMPARTMENT, lifecycleState: "STOPPED" },
    ]);
    try {
      await emu.admin.setFaults({ dropRate: { fraction: 1, afterProcessing: true } });
      const e = await computeError(port.instanceAction(i?.id ?? "", "START", "tok-drop"));
      expect(e).toMatchObject({ code: "NetworkError", transient: true, outcomeUnknown: true });
    } finally {
      await emu.admin.setFaults({});
    }
    // The action took effect; the same token replays the first answer.
    const replay = await port.instanceAction(i?.id ?? "", "START", "tok-drop");
    expect(["STARTING", "RUNNING"]).toContain(replay.lifecycleState);
    const { calls } = await emu.admin.calls();
    expect(calls.at(-1)).toMatchObject({ operation: "InstanceAction", replayed: true });
  });

  it('"Out of host capacity." is OutOfHostCapacity, not transient', async () => {
    const [i] = await emu.admin.putInstances([
      { compartmentId: CONTRACT_COMPARTMENT, lifecycleState: "STOPPED" },
    ]);
    try {
      await emu.admin.setFaults({ outOfCapacity: { instanceIds: [i?.id ?? ""] } });
      const e = await computeError(port.instanceAction(i?.id ?? "", "START", "tok-cap"));
      expect(e).toMatchObject({ code: "OutOfHostCapacity", status: 500, transient: false });
      expect(e.opcRequestId).toBeTruthy();
    } finally {
      await emu.admin.setFaults({});
    }
  });

  it("a request timeout surfaces as NetworkError (AbortSignal reaches the transport)", async () => {
    const [i] = await emu.admin.putInstances([
      { compartmentId: CONTRACT_COMPARTMENT, lifecycleState: "RUNNING" },
    ]);
    try {
      await emu.admin.setFaults({ latencyMs: 500 });
      const e = await computeError(port.getInstance(i?.id ?? "", AbortSignal.timeout(50)));
      expect(e).toMatchObject({ code: "NetworkError", outcomeUnknown: true });
    } finally {
      await emu.admin.setFaults({});
    }
  });
});
