/**
 * Billing-aware stops. OCI keeps billing some shapes while they are stopped (Dense I/O, most GPU and
 * HPC shapes: `Shape.isBilledForStoppedInstance` in ListShapes), so stopping them saves nothing.
 * Pure rules plus a port (`ShapesPort.listShapes`, implemented by the OCI adapter) and a per-process
 * cache keyed by compartment: one ListShapes per compartment per hour on the injected clock. A failed
 * read is remembered for a minute, so one invocation asks once, and the stop goes ahead with
 * `billed_while_stopped: null`.
 */
import type { BillingConfig } from "./override.js";

export const SHAPES_TTL_MS = 3_600_000;
export const SHAPES_FAILURE_TTL_MS = 60_000;

/** One ListShapes entry, as the port returns it. */
export interface ShapeInfo {
  shape: string;
  /** undefined: OCI did not say. */
  isBilledForStoppedInstance: boolean | undefined;
}

export interface ShapesPort {
  /** Every shape of the compartment, across all pages. Throws ComputeError like the Compute port. */
  listShapes(compartmentId: string, signal?: AbortSignal): Promise<ShapeInfo[]>;
}

export interface Clock {
  now(): number;
}

/** Shape name -> billed while stopped. Absent: not in the list; undefined: OCI did not say. */
export type ShapeCatalogue = ReadonlyMap<string, boolean | undefined>;

export type CatalogueLookup = { ok: true; catalogue: ShapeCatalogue } | { ok: false; error: string };

/**
 * ListShapes lists a shape once per availability domain (and per image, when filtered): if any entry
 * says billed, the shape counts as billed; a definite answer wins over an unknown.
 */
export function buildCatalogue(shapes: readonly ShapeInfo[]): ShapeCatalogue {
  const out = new Map<string, boolean | undefined>();
  for (const { shape, isBilledForStoppedInstance: billed } of shapes) {
    const seen = out.get(shape);
    if (!out.has(shape) || seen === undefined) out.set(shape, billed);
    else if (billed === true) out.set(shape, true);
  }
  return out;
}

export interface BilledWhileStopped {
  /** null: unknown (no shape, shapes unreadable, shape not listed, OCI did not say). */
  billed: boolean | null;
  reason: string;
}

/** Whether stopping an instance of `shape` stops its compute billing, with the reason. */
export function billedWhileStopped(shape: string | undefined, lookup: CatalogueLookup): BilledWhileStopped {
  if (!shape) return { billed: null, reason: "the instance reports no shape" };
  if (!lookup.ok) return { billed: null, reason: `the shapes could not be read (${lookup.error})` };
  if (!lookup.catalogue.has(shape)) {
    return { billed: null, reason: `shape ${shape} is not in the compartment's shape list` };
  }
  const billed = lookup.catalogue.get(shape);
  if (billed === undefined)
    return { billed: null, reason: `OCI does not say whether ${shape} bills while stopped` };
  return billed
    ? { billed: true, reason: `shape ${shape} keeps billing while stopped` }
    : { billed: false, reason: `shape ${shape} stops billing when stopped` };
}

export type BillingDecision =
  | { kind: "stop"; billedWhileStopped: boolean | null; reason: string }
  | { kind: "skip"; billedWhileStopped: true; reason: string };

/** BILLED_WHEN_STOPPED=skip leaves billed-while-stopped instances running; the default stops and flags. */
export function decideBilledStop(billing: BilledWhileStopped, config: BillingConfig): BillingDecision {
  if (billing.billed === true && config.billedWhenStopped === "skip") {
    return {
      kind: "skip",
      billedWhileStopped: true,
      reason: `skipped: ${billing.reason} (BILLED_WHEN_STOPPED=skip)`,
    };
  }
  return { kind: "stop", billedWhileStopped: billing.billed, reason: billing.reason };
}

interface Entry {
  expiresAt: number;
  lookup: Promise<CatalogueLookup>;
}

/**
 * Per-process cache of each compartment's catalogue. Concurrent lookups of one compartment share one
 * ListShapes call; success is kept for `ttlMs`, failure for `failureTtlMs`. Never rejects.
 */
export class ShapeCatalogueCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly port: ShapesPort,
    private readonly clock: Clock,
    private readonly ttlMs = SHAPES_TTL_MS,
    private readonly failureTtlMs = SHAPES_FAILURE_TTL_MS,
  ) {}

  /**
   * `read`, when given, is how this lookup calls the port (the batch passes one that goes through
   * its call scheduler, retries and deadline); by default the port is called directly.
   */
  lookup(
    compartmentId: string,
    signal?: AbortSignal,
    read?: ShapesPort["listShapes"],
  ): Promise<CatalogueLookup> {
    const now = this.clock.now();
    const cached = this.#entries.get(compartmentId);
    if (cached && cached.expiresAt > now) return cached.lookup;
    const entry: Entry = {
      expiresAt: Number.POSITIVE_INFINITY,
      lookup: this.#read(compartmentId, signal, read),
    };
    this.#entries.set(compartmentId, entry);
    void entry.lookup.then((result) => {
      entry.expiresAt = this.clock.now() + (result.ok ? this.ttlMs : this.failureTtlMs);
    });
    return entry.lookup;
  }

  async #read(
    compartmentId: string,
    signal: AbortSignal | undefined,
    read: ShapesPort["listShapes"] | undefined,
  ): Promise<CatalogueLookup> {
    try {
      const shapes = read
        ? await read(compartmentId, signal)
        : await this.port.listShapes(compartmentId, signal);
      return { ok: true, catalogue: buildCatalogue(shapes) };
    } catch (error) {
      return { ok: false, error: describeFailure(error) };
    }
  }
}

function describeFailure(error: unknown): string {
  if (error && typeof error === "object") {
    const e = error as { code?: unknown; message?: unknown };
    const code = typeof e.code === "string" ? `${e.code}: ` : "";
    const message = typeof e.message === "string" ? e.message : "unknown error";
    return `${code}${message}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}
