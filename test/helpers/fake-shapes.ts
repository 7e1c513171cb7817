/** In-memory ShapesPort (src/shapes.ts) for unit tests: counts calls, can fail or hold its answer. */
import type { ShapeInfo, ShapesPort } from "../../src/shapes.js";

export class FakeShapes implements ShapesPort {
  calls: string[] = [];
  failWith: unknown;
  release: (() => void) | undefined;
  hold = false;
  constructor(private readonly catalogue: ShapeInfo[]) {}
  async listShapes(compartmentId: string): Promise<ShapeInfo[]> {
    this.calls.push(compartmentId);
    if (this.hold) await new Promise<void>((r) => (this.release = r));
    if (this.failWith !== undefined) throw this.failWith;
    return this.catalogue;
  }
}
