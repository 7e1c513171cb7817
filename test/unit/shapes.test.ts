import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ComputeError } from "../../src/errors.js";
import {
  billedWhileStopped,
  buildCatalogue,
  type CatalogueLookup,
  decideBilledStop,
  SHAPES_FAILURE_TTL_MS,
  SHAPES_TTL_MS,
  ShapeCatalogueCache,
  type ShapeInfo,
} from "../../src/shapes.js";
import { FakeShapes } from "../helpers/fake-shapes.js";

const A = "ocid1.compartment.oc1..aaaaaaaashapesa";
const B = "ocid1.compartment.oc1..aaaaaaaashapesb";
const CATALOGUE: ShapeInfo[] = [
  { shape: "VM.Standard.E4.Flex", isBilledForStoppedInstance: false },
  { shape: "VM.DenseIO.E4.Flex", isBilledForStoppedInstance: true },
  { shape: "VM.GPU.A10.1", isBilledForStoppedInstance: false },
  { shape: "BM.GPU.A100-v2.8", isBilledForStoppedInstance: true },
  { shape: "VM.Mystery", isBilledForStoppedInstance: undefined },
];
const ok = (shapes: ShapeInfo[]): CatalogueLookup => ({ ok: true, catalogue: buildCatalogue(shapes) });

class ManualClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

describe("billedWhileStopped", () => {
  it.each([
    ["VM.Standard.E4.Flex", false, "shape VM.Standard.E4.Flex stops billing when stopped"],
    ["VM.DenseIO.E4.Flex", true, "shape VM.DenseIO.E4.Flex keeps billing while stopped"],
    ["BM.GPU.A100-v2.8", true, "shape BM.GPU.A100-v2.8 keeps billing while stopped"],
    ["VM.GPU.A10.1", false, "shape VM.GPU.A10.1 stops billing when stopped"],
    ["VM.Mystery", null, "OCI does not say whether VM.Mystery bills while stopped"],
    ["VM.Retired.1", null, "shape VM.Retired.1 is not in the compartment's shape list"],
    [undefined, null, "the instance reports no shape"],
  ])("%s -> %s", (shape, billed, reason) => {
    expect(billedWhileStopped(shape, ok(CATALOGUE))).toEqual({ billed, reason });
  });

  it("unreadable shapes: null, and the reason says why", () => {
    expect(
      billedWhileStopped("VM.DenseIO.E4.Flex", { ok: false, error: "NotAuthorizedOrNotFound: no" }),
    ).toEqual({
      billed: null,
      reason: "the shapes could not be read (NotAuthorizedOrNotFound: no)",
    });
  });

  it("a shape listed per availability domain counts as billed if any entry says so", () => {
    const c = buildCatalogue([
      { shape: "X", isBilledForStoppedInstance: undefined },
      { shape: "X", isBilledForStoppedInstance: false },
      { shape: "X", isBilledForStoppedInstance: true },
      { shape: "X", isBilledForStoppedInstance: false },
      { shape: "Y", isBilledForStoppedInstance: false },
      { shape: "Y", isBilledForStoppedInstance: undefined },
    ]);
    expect(c.get("X")).toBe(true);
    expect(c.get("Y")).toBe(false);
  });

  it("property: billed is true only when some entry for the shape says true", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            shape: fc.constantFrom("a", "b", "c"),
            isBilledForStoppedInstance: fc.constantFrom(true, false, undefined),
          }),
          { maxLength: 12 },
        ),
        fc.constantFrom("a", "b", "c", "d"),
        (shapes, shape) => {
          const { billed } = billedWhileStopped(shape, ok(shapes));
          const entries = shapes.filter((s) => s.shape === shape);
          expect(billed === true).toBe(entries.some((s) => s.isBilledForStoppedInstance === true));
          if (entries.length === 0) expect(billed).toBeNull();
        },
      ),
    );
  });
});

describe("decideBilledStop", () => {
  const billed = billedWhileStopped("VM.DenseIO.E4.Flex", ok(CATALOGUE));
  it("default stop: acts and flags", () => {
    expect(decideBilledStop(billed, { billedWhenStopped: "stop" })).toEqual({
      kind: "stop",
      billedWhileStopped: true,
      reason: "shape VM.DenseIO.E4.Flex keeps billing while stopped",
    });
  });
  it("skip: billed shapes are skipped with the reason; others and unknowns still stop", () => {
    expect(decideBilledStop(billed, { billedWhenStopped: "skip" })).toEqual({
      kind: "skip",
      billedWhileStopped: true,
      reason: "skipped: shape VM.DenseIO.E4.Flex keeps billing while stopped (BILLED_WHEN_STOPPED=skip)",
    });
    for (const shape of ["VM.Standard.E4.Flex", "VM.Mystery"]) {
      expect(
        decideBilledStop(billedWhileStopped(shape, ok(CATALOGUE)), { billedWhenStopped: "skip" }).kind,
      ).toBe("stop");
    }
    const unreadable = billedWhileStopped("VM.DenseIO.E4.Flex", { ok: false, error: "outage" });
    expect(decideBilledStop(unreadable, { billedWhenStopped: "skip" })).toMatchObject({
      kind: "stop",
      billedWhileStopped: null,
    });
  });
});

describe("ShapeCatalogueCache", () => {
  it("one ListShapes per compartment per hour, on the injected clock", async () => {
    const port = new FakeShapes(CATALOGUE);
    const clock = new ManualClock();
    const cache = new ShapeCatalogueCache(port, clock);
    const [a1, a2, b1] = await Promise.all([cache.lookup(A), cache.lookup(A), cache.lookup(B)]);
    expect(a1).toBe(a2);
    expect(b1.ok).toBe(true);
    expect(port.calls).toEqual([A, B]);
    clock.t += SHAPES_TTL_MS - 1;
    await cache.lookup(A);
    expect(port.calls).toEqual([A, B]);
    clock.t += 1;
    await cache.lookup(A);
    expect(port.calls).toEqual([A, B, A]);
  });

  it("concurrent lookups share one in-flight call", async () => {
    const port = new FakeShapes(CATALOGUE);
    port.hold = true;
    const cache = new ShapeCatalogueCache(port, new ManualClock());
    const pending = [cache.lookup(A), cache.lookup(A), cache.lookup(A)];
    await new Promise((r) => setImmediate(r));
    expect(port.calls).toEqual([A]);
    port.release?.();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it("a failure resolves (never rejects) with the error, and is asked again after a minute", async () => {
    const port = new FakeShapes(CATALOGUE);
    port.failWith = new ComputeError("NotAuthorizedOrNotFound", "HTTP 404: not authorized", {
      transient: false,
    });
    const clock = new ManualClock();
    const cache = new ShapeCatalogueCache(port, clock);
    expect(await cache.lookup(A)).toEqual({
      ok: false,
      error: "NotAuthorizedOrNotFound: HTTP 404: not authorized",
    });
    expect((await cache.lookup(A)).ok).toBe(false);
    expect(port.calls).toEqual([A]);
    clock.t += SHAPES_FAILURE_TTL_MS;
    port.failWith = undefined;
    expect((await cache.lookup(A)).ok).toBe(true);
    expect(port.calls).toEqual([A, A]);
  });

  it("a thrown non-error (network failures are plain objects) is described, not rethrown", async () => {
    const port = new FakeShapes(CATALOGUE);
    port.failWith = { code: "ECONNRESET" };
    expect(await new ShapeCatalogueCache(port, new ManualClock()).lookup(A)).toEqual({
      ok: false,
      error: "ECONNRESET: unknown error",
    });
    port.failWith = "boom";
    expect(await new ShapeCatalogueCache(port, new ManualClock()).lookup(B)).toEqual({
      ok: false,
      error: "boom",
    });
  });
});
