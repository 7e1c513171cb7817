import { describe, expect, it } from "vitest";
import { OciHttpError } from "../src/errors.js";
import { parseFaults } from "../src/faults.js";
import { startEmulator } from "../src/index.js";
import { parseInstanceUpdate } from "../src/instance-update.js";
import { DEFAULT_SHAPES, listShapesPage, parseShapes } from "../src/shapes.js";

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OciHttpError);
    expect((e as OciHttpError).status).toBe(400);
    return (e as OciHttpError).message;
  }
  throw new Error("expected a 400");
}

describe("ListShapes catalogue", () => {
  it("has standard, Dense I/O, GPU and HPC shapes with Oracle's billing rule", () => {
    const billed = Object.fromEntries(DEFAULT_SHAPES.map((s) => [s.shape, s.isBilledForStoppedInstance]));
    expect(billed).toMatchObject({
      "VM.Standard.E4.Flex": false,
      "VM.DenseIO.E4.Flex": true,
      "BM.DenseIO.E4.128": true,
      "VM.GPU.A10.1": false,
      "VM.GPU3.1": true,
      "BM.GPU.A100-v2.8": true,
      "BM.HPC2.36": true,
      "VM.Optimized3.Flex": false,
      "BM.Optimized3.36": true,
    });
  });

  it("pages with an index token and refuses a forged one", () => {
    const first = listShapesPage(DEFAULT_SHAPES, 5, null);
    expect(first.items).toHaveLength(5);
    expect(first.nextPage).toBe("s5");
    const all = [...first.items];
    let page = first.nextPage;
    while (page) {
      const next = listShapesPage(DEFAULT_SHAPES, 5, page);
      all.push(...next.items);
      page = next.nextPage;
    }
    expect(all).toEqual(DEFAULT_SHAPES);
    expect(badRequest(() => listShapesPage(DEFAULT_SHAPES, 5, "p1"))).toMatch(/Invalid page token/);
  });

  it.each([
    [{}, /shapes must be a list/],
    [[1], /shapes\[0\] must be an object/],
    [[{ shape: "" }], /shapes\[0\].shape must be a name/],
    [[{ shape: "X", isBilledForStoppedInstance: "yes" }], /isBilledForStoppedInstance must be a boolean/],
  ])("parseShapes refuses %j", (input, pattern) => {
    expect(badRequest(() => parseShapes(input))).toMatch(pattern);
  });

  it("the admin API replaces and serves the catalogue; a state file seeds it", async () => {
    const emu = await startEmulator({
      state: { shapes: [{ shape: "VM.Only", isBilledForStoppedInstance: true }] },
    });
    try {
      expect(await emu.admin.getShapes()).toEqual([{ shape: "VM.Only", isBilledForStoppedInstance: true }]);
      await emu.admin.putShapes([{ shape: "VM.Other" }]);
      expect((await emu.admin.state()).shapes).toEqual([{ shape: "VM.Other" }]);
      await expect(emu.admin.putShapes("nope" as never)).rejects.toMatchObject({ status: 400 });
    } finally {
      await emu.close();
    }
  });
});

describe("UpdateInstanceDetails and the concurrentUpdate fault", () => {
  it("keeps displayName and the tag maps, skips nulls (as SDKs send them)", () => {
    expect(
      parseInstanceUpdate(
        body({ displayName: "web", freeformTags: { a: "1" }, definedTags: { Ops: { k: 1 } }, shape: null }),
      ),
    ).toEqual({ displayName: "web", freeformTags: { a: "1" }, definedTags: { Ops: { k: 1 } } });
  });

  it.each([
    ["[]", /must be a JSON object/],
    ["{", /not valid JSON/],
    [JSON.stringify({ displayName: "" }), /displayName must be a string of 1-255/],
    [JSON.stringify({ freeformTags: [] }), /freeformTags must be an object/],
    [JSON.stringify({ freeformTags: { "a.b": "x" } }), /must be 1-100 characters without spaces or periods/],
    [JSON.stringify({ freeformTags: { a: 1 } }), /freeformTags.a must be a string/],
    [
      JSON.stringify({
        freeformTags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])),
      }),
      /at most 64 tags/,
    ],
    [JSON.stringify({ definedTags: null, metadata: { a: "b" } }), /got "metadata"/],
  ])("refuses %s", (raw, pattern) => {
    expect(badRequest(() => parseInstanceUpdate(Buffer.from(raw)))).toMatch(pattern);
  });

  it("faults.concurrentUpdate is validated", () => {
    expect(parseFaults({ concurrentUpdate: { instanceIds: ["x"] } })).toEqual({
      concurrentUpdate: { instanceIds: ["x"] },
    });
    expect(badRequest(() => parseFaults({ concurrentUpdate: { instanceIds: "x" } }))).toMatch(
      /faults.concurrentUpdate.instanceIds must be a list of strings/,
    );
  });
});
