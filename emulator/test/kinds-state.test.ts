/**
 * The state file's instancePools, nodePools and containerInstances keys: seeding, the snapshot
 * round trip (a snapshot seeds an equal emulator), and seeds refused with a 400 naming the field.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../src/index.js";
import type { EmulatorState } from "../src/model.js";
import { COMPARTMENT_A, emulator, signedFetch } from "./helpers.js";

const POOL = "ocid1.instancepool.oc1.iad.aaaaaaaastatepool";
const NODE_POOL = "ocid1.nodepool.oc1.iad.aaaaaaaastatenp";
const CONTAINER = "ocid1.computecontainerinstance.oc1.iad.aaaaaaaastateci";
const MEMBER = "ocid1.instance.oc1.iad.aaaaaaaastatemember";

const running: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

async function start(state: EmulatorState) {
  const emu = await emulator(state, 0.001);
  running.push(emu);
  return emu;
}

describe("state file keys", () => {
  it("seed all three kinds; the snapshot seeds an emulator with the same resources", async () => {
    const first = await start({
      instancePools: [
        { id: POOL, compartmentId: COMPARTMENT_A, lifecycleState: "STOPPED", instanceIds: [MEMBER] },
      ],
      nodePools: [
        {
          id: NODE_POOL,
          compartmentId: COMPARTMENT_A,
          nodeConfigDetails: { size: 2 },
          freeformTags: { a: "b" },
        },
      ],
      containerInstances: [{ id: CONTAINER, compartmentId: COMPARTMENT_A, lifecycleState: "INACTIVE" }],
    });
    const snapshot = await first.admin.state();
    expect(snapshot.instancePools).toEqual([
      expect.objectContaining({ id: POOL, lifecycleState: "STOPPED", size: 1, instanceIds: [MEMBER] }),
    ]);
    expect(snapshot.instances).toEqual([expect.objectContaining({ id: MEMBER, lifecycleState: "STOPPED" })]);
    expect(snapshot.nodePools[0]?.nodes).toHaveLength(2);
    expect(snapshot.containerInstances).toEqual([
      expect.objectContaining({ id: CONTAINER, lifecycleState: "INACTIVE" }),
    ]);

    const second = await start(snapshot);
    const again = await second.admin.state();
    expect(again.instancePools).toEqual(snapshot.instancePools);
    expect(again.containerInstances).toEqual(snapshot.containerInstances);
    expect(
      again.nodePools.map((p) => [p.id, p.nodeConfigDetails.size, p.nodes.length, p.freeformTags]),
    ).toEqual([[NODE_POOL, 2, 2, { a: "b" }]]);
  });

  it.each([
    [
      { instancePools: [{ id: "ocid1.nodepool.oc1.iad.x" }] },
      /instancePools\[\]\.id must be an ocid1\.instancepool/,
    ],
    [{ instancePools: [{ lifecycleState: "ASLEEP" }] }, /instancePools\[\]\.lifecycleState must be one of/],
    [{ instancePools: [{ instanceIds: "i-1" }] }, /instancePools\[\]\.instanceIds must be a list/],
    [{ nodePools: [{ size: -2 }] }, /nodePools\[\]\.size must be an integer from 0 to 1000/],
    [{ nodePools: [{ compartmentId: "dev" }] }, /nodePools\[\]\.compartmentId must be an OCID/],
    [
      { containerInstances: [{ freeformTags: ["x"] }] },
      /containerInstances\[\]\.freeformTags must be an object/,
    ],
    [{ containerInstances: [42] }, /Each of containerInstances must be a JSON object/],
  ])("refuses %j naming the field", async (state, message) => {
    await expect(start(state as EmulatorState)).rejects.toThrow(message);
  });

  it("an upsert replaces by id in place: paging still visits each resource once", async () => {
    const emu = await start({});
    const ids = ["a", "b", "c"].map((x) => `ocid1.computecontainerinstance.oc1.iad.aaaaaaaapage${x}`);
    await emu.admin.putContainerInstances(ids.map((id) => ({ id, compartmentId: COMPARTMENT_A })));
    await emu.admin.putContainerInstances([
      { id: ids[0], compartmentId: COMPARTMENT_A, displayName: "renamed" },
    ]);
    const key = await emu.admin.generateApiKey();
    const seen: string[] = [];
    let page = "";
    for (let i = 0; i < 5; i++) {
      const query = `compartmentId=${COMPARTMENT_A}&limit=1${page ? `&page=${page}` : ""}`;
      const res = await signedFetch(emu, key, "GET", `/20210415/containerInstances?${query}`);
      seen.push(...(res.json as { items: Array<{ id: string }> }).items.map((c) => c.id));
      page = res.headers.get("opc-next-page") ?? "";
      if (!page) break;
    }
    expect(seen).toEqual(ids);
  });

  it("the admin routes refuse the same seeds with a 400", async () => {
    const emu = await start({});
    await expect(emu.admin.putNodePools([{ size: 1.5 }])).rejects.toMatchObject({
      status: 400,
      code: "InvalidParameter",
    });
    await expect(emu.admin.getNodePool(NODE_POOL)).rejects.toMatchObject({ status: 404 });
  });
});
