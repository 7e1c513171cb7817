/**
 * ListShapes and UpdateInstance through the wire: the OCI adapter (real oci-core, real signing as a
 * resource principal) and a plain SDK ComputeClient (API key) against the emulator.
 */
import { SimpleAuthenticationDetailsProvider } from "oci-common";
import { ComputeClient } from "oci-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/src/index.js";
import { DEFAULT_SHAPES } from "../../emulator/src/shapes.js";
import { createOciCompute } from "../../src/oci-compute.js";
import { billedWhileStopped, ShapeCatalogueCache, type ShapesPort } from "../../src/shapes.js";

const FLEET = "ocid1.compartment.oc1..aaaaaaaashapefleet";
const OTHER = "ocid1.compartment.oc1..aaaaaaaashapeother";
const VM = "ocid1.instance.oc1.iad.aaaaaaaaupdatevm";

let emu: RunningEmulator;
let shapes: ShapesPort;
let client: ComputeClient;

beforeAll(async () => {
  emu = await startEmulator({
    timeScale: 0.002,
    state: {
      instances: [
        {
          id: VM,
          compartmentId: FLEET,
          shape: "VM.DenseIO.E4.Flex",
          freeformTags: { Schedule: "office-hours", owner: "ana" },
          definedTags: { Ops: { CostCenter: "42" } },
        },
      ],
    },
  });
  const rp = await emu.admin.mintResourcePrincipal({ compartmentId: FLEET, compartments: [FLEET] });
  for (const [k, v] of Object.entries(rp.env)) vi.stubEnv(k, v);
  vi.stubEnv("OCI_COMPUTE_ENDPOINT", emu.url);
  shapes = (await createOciCompute({ ...process.env })).compute;
  const key = await emu.admin.generateApiKey({ compartments: [FLEET] });
  client = new ComputeClient({
    authenticationDetailsProvider: new SimpleAuthenticationDetailsProvider(
      key.tenancyId,
      key.userId,
      key.fingerprint,
      key.privateKeyPem,
      null,
    ),
  });
  client.endpoint = emu.url;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await emu?.close();
});

async function status(p: Promise<unknown>): Promise<{ statusCode: number; serviceCode: string }> {
  try {
    await p;
  } catch (error) {
    return error as { statusCode: number; serviceCode: string };
  }
  throw new Error("expected the call to fail");
}

describe("ListShapes", () => {
  it("the adapter reads the catalogue, with OCI's billed-while-stopped flag per shape", async () => {
    const list = await shapes.listShapes(FLEET);
    expect(list).toEqual(
      DEFAULT_SHAPES.map((s) => ({
        shape: s.shape,
        isBilledForStoppedInstance: s.isBilledForStoppedInstance,
      })),
    );
    const flag = (name: string) => list.find((s) => s.shape === name)?.isBilledForStoppedInstance;
    expect(flag("VM.Standard.E4.Flex")).toBe(false);
    expect(flag("VM.DenseIO.E4.Flex")).toBe(true);
    expect(flag("BM.GPU.A100-v2.8")).toBe(true);
    expect(flag("VM.GPU.A10.1")).toBe(false);
    expect(flag("BM.HPC2.36")).toBe(true);
  });

  it("follows opc-next-page; a missing flag stays unknown", async () => {
    const many = Array.from({ length: 1500 }, (_, i) => ({
      shape: `VM.Test.${i}`,
      isBilledForStoppedInstance: i % 2 === 0,
    }));
    await emu.admin.putShapes([...many, { shape: "VM.NoFlag" }]);
    await emu.admin.clearCalls();
    try {
      const list = await shapes.listShapes(FLEET);
      expect(list).toHaveLength(1501);
      expect(list.at(-1)).toEqual({ shape: "VM.NoFlag", isBilledForStoppedInstance: undefined });
      const { calls } = await emu.admin.calls();
      expect(calls.filter((c) => c.operation === "ListShapes").map((c) => c.status)).toEqual([200, 200]);
    } finally {
      await emu.admin.putShapes([...DEFAULT_SHAPES]);
    }
  });

  it("the cache asks once per compartment; a compartment the principal may not see gives null with the reason", async () => {
    await emu.admin.clearCalls();
    const cache = new ShapeCatalogueCache(shapes, { now: () => 0 });
    const [a, b] = await Promise.all([cache.lookup(FLEET), cache.lookup(FLEET)]);
    expect(billedWhileStopped("VM.DenseIO.E4.Flex", a)).toEqual({
      billed: true,
      reason: "shape VM.DenseIO.E4.Flex keeps billing while stopped",
    });
    expect(b).toBe(a);
    const denied = await cache.lookup(OTHER);
    expect(denied.ok).toBe(false);
    expect(billedWhileStopped("VM.DenseIO.E4.Flex", denied)).toEqual({
      billed: null,
      reason: expect.stringMatching(/^the shapes could not be read \(NotAuthorizedOrNotFound: /),
    });
    const { calls } = await emu.admin.calls();
    expect(calls.filter((c) => c.operation === "ListShapes").map((c) => c.status)).toEqual([200, 404]);
  });
});

describe("UpdateInstance", () => {
  it("GetInstance answers an etag; an update with it replaces the tag map and answers a new etag", async () => {
    const got = await client.getInstance({ instanceId: VM });
    expect(got.etag).toMatch(/\S/);
    const tags = { ...got.instance.freeformTags, "power-override": "skip" };
    const updated = await client.updateInstance({
      instanceId: VM,
      updateInstanceDetails: { freeformTags: tags },
      ifMatch: got.etag,
    });
    expect(updated.etag).not.toBe(got.etag);
    expect(updated.instance.freeformTags).toEqual({
      Schedule: "office-hours",
      owner: "ana",
      "power-override": "skip",
    });
    expect(updated.instance.definedTags).toEqual({ Ops: { CostCenter: "42" } });
    expect((await client.getInstance({ instanceId: VM })).etag).toBe(updated.etag);
  });

  it("a stale if-match is 412 NoEtagMatch and writes nothing", async () => {
    const before = await client.getInstance({ instanceId: VM });
    await emu.admin.patchInstance(VM, { displayName: "changed-by-someone" });
    const err = await status(
      client.updateInstance({
        instanceId: VM,
        updateInstanceDetails: { freeformTags: {} },
        ifMatch: before.etag,
      }),
    );
    expect(err).toMatchObject({ statusCode: 412, serviceCode: "NoEtagMatch" });
    expect((await emu.admin.getInstance(VM)).freeformTags).toEqual(before.instance.freeformTags);
  });

  it("fault concurrentUpdate: someone changes the instance right after each read", async () => {
    await emu.admin.setFaults({ concurrentUpdate: { instanceIds: [VM] } });
    try {
      const got = await client.getInstance({ instanceId: VM });
      expect(got.instance.freeformTags?.["emulator-concurrent-update"]).toBeUndefined();
      const err = await status(
        client.updateInstance({
          instanceId: VM,
          updateInstanceDetails: { displayName: "x" },
          ifMatch: got.etag,
        }),
      );
      expect(err.statusCode).toBe(412);
      expect((await emu.admin.getInstance(VM)).freeformTags["emulator-concurrent-update"]).toBe("1");
    } finally {
      await emu.admin.setFaults({});
    }
  });

  it.each([
    [
      { shape: "VM.Standard.E5.Flex" },
      /supports displayName, freeformTags and definedTags only; got "shape"/,
    ],
    [{ freeformTags: { "a b": "x" } }, /freeformTags key "a b" must be 1-100 characters/],
    [{ freeformTags: { k: "v".repeat(257) } }, /freeformTags.k must be a string of at most 256/],
    [{ definedTags: { Ops: "x" } }, /definedTags.Ops must be an object/],
  ])("refuses %j with 400 naming the field", async (details, pattern) => {
    const err = await status(
      client.updateInstance({ instanceId: VM, updateInstanceDetails: details as never }),
    );
    expect(err.statusCode).toBe(400);
    expect((err as unknown as { message: string }).message).toMatch(pattern);
  });

  it("an instance in a compartment the key may not see is 404", async () => {
    const hidden = "ocid1.instance.oc1.iad.aaaaaaaaupdatehidden";
    await emu.admin.putInstances([{ id: hidden, compartmentId: OTHER }]);
    const err = await status(
      client.updateInstance({ instanceId: hidden, updateInstanceDetails: { displayName: "x" } }),
    );
    expect(err).toMatchObject({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
  });
});
