/**
 * ListShapes (`GET /20160918/shapes`): a catalogue of shapes with OCI's `isBilledForStoppedInstance`
 * flag. The defaults follow Oracle's "Resource Billing for Stopped Instances": standard and optimized
 * VM shapes stop billing when stopped; Dense I/O and HPC shapes keep billing (their NVMe storage is
 * kept); GPU shapes keep billing except the VM.GPU.A10 series; bare-metal optimized shapes keep
 * billing. A state file or `PUT /_emulator/shapes` replaces the catalogue.
 */
import { invalidParameter } from "./errors.js";

/** A Shape in the SDK model's field names (oci-core `models.Shape`), as JSON. */
export interface ShapeJson {
  shape: string;
  isBilledForStoppedInstance?: boolean;
  processorDescription?: string;
  isFlexible?: boolean;
  ocpus?: number;
  memoryInGBs?: number;
  gpus?: number;
  [field: string]: unknown;
}

const shape = (name: string, billed: boolean, extra: Partial<ShapeJson> = {}): ShapeJson => ({
  shape: name,
  isBilledForStoppedInstance: billed,
  isFlexible: name.endsWith(".Flex"),
  ...extra,
});

export const DEFAULT_SHAPES: readonly ShapeJson[] = [
  shape("VM.Standard.E4.Flex", false, { processorDescription: "2.55 GHz AMD EPYC 7J13 (Milan)" }),
  shape("VM.Standard.E5.Flex", false, { processorDescription: "2.4 GHz AMD EPYC 9J14 (Genoa)" }),
  shape("VM.Standard3.Flex", false, { processorDescription: "2.0 GHz Intel Xeon Platinum 8358 (Ice Lake)" }),
  shape("VM.Standard.A1.Flex", false, { processorDescription: "3.0 GHz Ampere Altra" }),
  shape("VM.Standard2.1", false, { ocpus: 1, memoryInGBs: 15 }),
  shape("BM.Standard.E4.128", false, { ocpus: 128, memoryInGBs: 2048 }),
  shape("VM.Optimized3.Flex", false),
  shape("BM.Optimized3.36", true, { ocpus: 36, memoryInGBs: 512 }),
  shape("VM.DenseIO.E4.Flex", true),
  shape("VM.DenseIO2.8", true, { ocpus: 8, memoryInGBs: 120 }),
  shape("BM.DenseIO.E4.128", true, { ocpus: 128, memoryInGBs: 2048 }),
  shape("VM.GPU.A10.1", false, { ocpus: 15, memoryInGBs: 240, gpus: 1 }),
  shape("VM.GPU.A10.2", false, { ocpus: 30, memoryInGBs: 480, gpus: 2 }),
  shape("VM.GPU3.1", true, { ocpus: 6, memoryInGBs: 90, gpus: 1 }),
  shape("BM.GPU4.8", true, { ocpus: 64, memoryInGBs: 2048, gpus: 8 }),
  shape("BM.GPU.A100-v2.8", true, { ocpus: 128, memoryInGBs: 2048, gpus: 8 }),
  shape("BM.HPC2.36", true, { ocpus: 36, memoryInGBs: 384 }),
];

/** Validate an untrusted catalogue (state file, admin API); throws a 400 naming the bad entry. */
export function parseShapes(input: unknown): ShapeJson[] {
  if (!Array.isArray(input)) throw invalidParameter("shapes must be a list.");
  return input.map((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw invalidParameter(`shapes[${i}] must be an object.`);
    }
    const s = item as Record<string, unknown>;
    if (typeof s.shape !== "string" || s.shape === "")
      throw invalidParameter(`shapes[${i}].shape must be a name.`);
    if (s.isBilledForStoppedInstance !== undefined && typeof s.isBilledForStoppedInstance !== "boolean") {
      throw invalidParameter(`shapes[${i}].isBilledForStoppedInstance must be a boolean when given.`);
    }
    return { ...s, shape: s.shape } as ShapeJson;
  });
}

/** One page of the catalogue; the page token is the index to resume from. */
export function listShapesPage(
  shapes: readonly ShapeJson[],
  limit: number,
  pageToken: string | null,
): { items: ShapeJson[]; nextPage: string | undefined } {
  let start = 0;
  if (pageToken !== null) {
    const m = /^s(\d{1,9})$/.exec(pageToken);
    if (!m) throw invalidParameter("Invalid page token.");
    start = Number(m[1]);
  }
  const items = shapes.slice(start, start + limit);
  const next = start + limit;
  return { items, nextPage: next < shapes.length ? `s${next}` : undefined };
}
