/**
 * One contract for the Compute port, run against the in-memory fake (unit) and the OCI adapter
 * talking to the emulator (integration), so the fake cannot drift from what the real SDK path does.
 */
import { describe, expect, it } from "vitest";
import type { ComputePort, InstanceView } from "../../src/compute.js";
import { ComputeError } from "../../src/errors.js";

export interface ContractInstance {
  id: string;
  compartmentId: string;
  displayName: string;
  lifecycleState: "RUNNING" | "STOPPED";
  freeformTags?: Record<string, string>;
}

export interface ContractHarness {
  port: ComputePort;
  /** Puts instances in place (upsert). */
  seed(instances: ContractInstance[]): Promise<void>;
  /** Transition durations are short: waits for one to finish. */
  settleMs: number;
  /** Keeps transitions of these instances going until released, so a test can act in the middle. */
  hold(instanceIds: string[]): Promise<() => Promise<void>>;
}

export const CONTRACT_COMPARTMENT = "ocid1.compartment.oc1..contract";
const OTHER = "ocid1.compartment.oc1..contractother";

function id(n: number): string {
  return `ocid1.instance.oc1.iad.contract${n}`;
}

async function expectComputeError(
  p: Promise<unknown>,
  code: string,
  transient: boolean,
): Promise<ComputeError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ComputeError);
    const e = error as ComputeError;
    expect(e.code).toBe(code);
    expect(e.transient).toBe(transient);
    return e;
  }
  throw new Error(`expected ${code}`);
}

async function eventually(
  read: () => Promise<InstanceView>,
  state: string,
  settleMs: number,
): Promise<InstanceView> {
  const until = Date.now() + settleMs * 20 + 2000;
  for (;;) {
    const v = await read();
    if (v.lifecycleState === state || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, Math.max(5, settleMs / 4)));
  }
}

export function describeComputeContract(name: string, setup: () => ContractHarness): void {
  describe(`Compute port contract: ${name}`, () => {
    it("getInstance returns the instance's view", async () => {
      const h = setup();
      await h.seed([
        {
          id: id(1),
          compartmentId: CONTRACT_COMPARTMENT,
          displayName: "web-1",
          lifecycleState: "RUNNING",
          freeformTags: { a: "b" },
        },
      ]);
      const v = await h.port.getInstance(id(1));
      expect(v).toMatchObject({
        id: id(1),
        compartmentId: CONTRACT_COMPARTMENT,
        displayName: "web-1",
        lifecycleState: "RUNNING",
        freeformTags: { a: "b" },
        definedTags: {},
      });
    });

    it("an unknown id is NotAuthorizedOrNotFound (404, not transient) with an opc-request-id", async () => {
      const h = setup();
      const e = await expectComputeError(h.port.getInstance(id(999)), "NotAuthorizedOrNotFound", false);
      expect(e.status).toBe(404);
      expect(typeof e.opcRequestId).toBe("string");
      await expectComputeError(
        h.port.instanceAction(id(999), "START", "tok-404"),
        "NotAuthorizedOrNotFound",
        false,
      );
    });

    it("listInstances returns the compartment's instances only", async () => {
      const h = setup();
      await h.seed([
        { id: id(2), compartmentId: CONTRACT_COMPARTMENT, displayName: "a", lifecycleState: "RUNNING" },
        { id: id(3), compartmentId: CONTRACT_COMPARTMENT, displayName: "b", lifecycleState: "STOPPED" },
        { id: id(4), compartmentId: OTHER, displayName: "c", lifecycleState: "STOPPED" },
      ]);
      const views = await h.port.listInstances(CONTRACT_COMPARTMENT);
      const ids = views.map((v) => v.id);
      expect(ids).toEqual(expect.arrayContaining([id(2), id(3)]));
      expect(ids).not.toContain(id(4));
      expect(new Set(views.map((v) => v.compartmentId))).toEqual(new Set([CONTRACT_COMPARTMENT]));
    });

    it("START on STOPPED moves to STARTING then RUNNING; a retry with the same token is replayed", async () => {
      const h = setup();
      await h.seed([
        { id: id(5), compartmentId: CONTRACT_COMPARTMENT, displayName: "s", lifecycleState: "STOPPED" },
      ]);
      const first = await h.port.instanceAction(id(5), "START", "tok-5");
      expect(first.lifecycleState).toBe("STARTING");
      const again = await h.port.instanceAction(id(5), "START", "tok-5");
      expect(again.lifecycleState).toBe("STARTING");
      const settled = await eventually(() => h.port.getInstance(id(5)), "RUNNING", h.settleMs);
      expect(settled.lifecycleState).toBe("RUNNING");
    });

    it("STOP and SOFTSTOP on RUNNING move to STOPPING then STOPPED", async () => {
      const h = setup();
      await h.seed([
        { id: id(6), compartmentId: CONTRACT_COMPARTMENT, displayName: "x", lifecycleState: "RUNNING" },
        { id: id(7), compartmentId: CONTRACT_COMPARTMENT, displayName: "y", lifecycleState: "RUNNING" },
      ]);
      expect((await h.port.instanceAction(id(6), "STOP", "tok-6")).lifecycleState).toBe("STOPPING");
      expect((await h.port.instanceAction(id(7), "SOFTSTOP", "tok-7")).lifecycleState).toBe("STOPPING");
      expect((await eventually(() => h.port.getInstance(id(6)), "STOPPED", h.settleMs)).lifecycleState).toBe(
        "STOPPED",
      );
    });

    it("START on RUNNING is a no-op; START while STOPPING is IncorrectState (409, transient)", async () => {
      const h = setup();
      await h.seed([
        { id: id(8), compartmentId: CONTRACT_COMPARTMENT, displayName: "r", lifecycleState: "RUNNING" },
        { id: id(9), compartmentId: CONTRACT_COMPARTMENT, displayName: "t", lifecycleState: "RUNNING" },
      ]);
      expect((await h.port.instanceAction(id(8), "START", "tok-8")).lifecycleState).toBe("RUNNING");
      // Held, so the START surely meets STOPPING however slow the machine is.
      const release = await h.hold([id(9)]);
      try {
        await h.port.instanceAction(id(9), "STOP", "tok-9");
        const e = await expectComputeError(
          h.port.instanceAction(id(9), "START", "tok-9b"),
          "IncorrectState",
          true,
        );
        expect(e.status).toBe(409);
      } finally {
        await release();
      }
    });
  });
}
