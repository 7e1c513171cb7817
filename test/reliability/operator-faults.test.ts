/**
 * Override and shape faults through the built bundles against the emulator: every hostile override
 * tag (hostile-overrides.ts) on a real instance is an InvalidOverride for both functions, with no
 * power action and the process alive; a strange shape catalogue or a failing ListShapes never stops
 * a stop from happening or from being accounted for.
 */
import { describe, expect, it } from "vitest";
import type { PowerResponse } from "../../src/response.js";
import { useWorld } from "../helpers/world.js";
import { accountingProblems, suiteSeed } from "./harness.js";
import { hostileOverrides } from "./hostile-overrides.js";

const SEED = suiteSeed();
/** The emulator's admin body limit is 1 MiB: the "huge" value is cut to fit (OCI caps values at 256). */
const MAX_VALUE = 256 * 1024;

const world = useWorld({ timeScale: 0.01 });

async function putEach(compartmentId: string, lifecycleState: string, tags: Record<string, string>[]) {
  const ids: string[] = [];
  for (const freeformTags of tags) {
    const [i] = await world.emu.admin.putInstances([{ compartmentId, lifecycleState, freeformTags }]);
    ids.push(i?.id ?? "");
  }
  return ids;
}

async function actionsOn(ids: readonly string[]) {
  const { calls } = await world.emu.admin.calls();
  return calls.filter((c) => c.operation === "InstanceAction" && ids.includes(c.instanceId ?? ""));
}

describe("hostile override tags on real instances", () => {
  const cases = hostileOverrides();
  const tags = cases.map((c) =>
    Object.fromEntries(Object.entries(c.freeformTags).map(([k, v]) => [k, v.slice(0, MAX_VALUE)])),
  );

  it.each([
    ["start-compute", "STOPPED", () => world.start],
    ["stop-compute", "RUNNING", () => world.stop],
  ] as const)(
    "%s: each is failed InvalidOverride, no action, the process alive",
    async (name, state, pick) => {
      const ids = await putEach(`ocid1.compartment.oc1..hostile${state.toLowerCase()}`, state, tags);
      const res = await world.call(pick(), { instance_ids: ids });
      expect(res.status).toBe(200);
      const body: PowerResponse = res.body;
      expect(accountingProblems(body, ids)).toEqual([]);
      const wrong = (body.results ?? [])
        .map((r, i) => ({ name: cases[i]?.name, outcome: r.outcome, code: r.error?.code }))
        .filter((r) => r.outcome !== "failed" || r.code !== "InvalidOverride");
      expect(wrong, name).toEqual([]);
      for (const r of body.results ?? []) {
        expect(r.reason.length).toBeLessThanOrEqual(300);
        expect(r.error?.message).not.toMatch(/[\p{Cc}\u200b\u202e]/u);
      }
      expect(await actionsOn(ids)).toEqual([]);
      const plain = await putEach("ocid1.compartment.oc1..hostileplain", state, [{}]);
      const after = await world.call(pick(), { instance_ids: plain });
      expect(after.body).toMatchObject({ ok: true, results: [{ outcome: "changed" }] });
    },
  );
});

describe("shape faults never block or lose a stop", () => {
  it("a catalogue without the flag, an unlisted shape and no shape → null, stopped", async () => {
    const comp = "ocid1.compartment.oc1..oddshapes";
    const saved = await world.emu.admin.getShapes();
    await world.emu.admin.putShapes([
      { shape: "VM.Odd.1" },
      { shape: "VM.GPU3.1", isBilledForStoppedInstance: true },
    ]);
    try {
      const put = (shape?: string) =>
        world.emu.admin.putInstances([
          { compartmentId: comp, lifecycleState: "RUNNING", ...(shape ? { shape } : {}) },
        ]);
      const ids = [
        (await put("VM.Odd.1"))[0]?.id ?? "",
        (await put("VM.Not.Listed"))[0]?.id ?? "",
        (await put("VM.GPU3.1"))[0]?.id ?? "",
      ];
      const res = await world.call(world.stop, { instance_ids: ids });
      expect(accountingProblems(res.body, ids)).toEqual([]);
      expect(res.body.results?.map((r) => [r.outcome, r.billed_while_stopped])).toEqual([
        ["changed", null],
        ["changed", null],
        ["changed", true],
      ]);
    } finally {
      await world.emu.admin.putShapes(saved);
    }
  });

  it(`ListShapes among failing OCI calls: every stop accounted for, billed_while_stopped always set (seed ${SEED})`, async () => {
    const comp = "ocid1.compartment.oc1..shapestorm";
    const ids = (
      await world.emu.admin.putInstances(
        Array.from({ length: 20 }, () => ({
          compartmentId: comp,
          lifecycleState: "RUNNING",
          shape: "BM.GPU4.8",
        })),
      )
    ).map((i) => i.id);
    await world.emu.admin.setFaults({ errorRate: { fraction: 0.4, statuses: [500, 503] }, seed: SEED });
    let res: Awaited<ReturnType<typeof world.call>>;
    try {
      res = await world.call(world.stop, { instance_ids: ids });
    } finally {
      await world.emu.admin.setFaults({});
    }
    expect(res.status).toBe(200);
    expect(accountingProblems(res.body, ids)).toEqual([]);
    for (const r of res.body.results ?? []) {
      if (r.outcome === "changed" || r.outcome === "in_progress") {
        expect([true, null]).toContain(r.billed_while_stopped);
      }
    }
    const { calls } = await world.emu.admin.calls();
    expect(calls.filter((c) => c.operation === "ListShapes").length).toBeGreaterThanOrEqual(1);
  });
});
