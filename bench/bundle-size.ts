/**
 * Bundle size per function and what dominates it. Sizes are the shipped dist/func.js files; the
 * breakdown comes from an esbuild metafile: the build's own when it writes one next to the bundle,
 * otherwise from an analysis build of the same entry made here (its total is reported beside the
 * shipped size so the two can be compared).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { ROOT } from "./functions.js";

export interface SizeGroup {
  name: string;
  bytes: number;
  share: number;
  /** Bytes of this package plus every package only reachable through it (what removing it would save). */
  exclusiveBytes?: number;
}

export interface BundleSize {
  fn: string;
  bytes: number;
  gzipBytes: number;
  minified: boolean;
  breakdownSource: string;
  breakdownTotalBytes: number;
  byPackage: SizeGroup[];
  /** The biggest package split by its top-level folders (e.g. oci-core/lib/model). */
  insideLargest: SizeGroup[];
}

const METAFILE_CANDIDATES = [
  "dist/meta.json",
  "dist/metafile.json",
  "dist/func.meta.json",
  "dist/func.js.meta.json",
];

function isMetafile(value: unknown): value is Metafile {
  return typeof value === "object" && value !== null && "outputs" in value && "inputs" in value;
}

/** `node_modules/oci-core/lib/model/x.js` → `oci-core`; own sources → `own code`. */
function packageOf(input: string): string {
  const parts = input.split("/");
  const nm = parts.lastIndexOf("node_modules");
  if (nm < 0) return OWN;
  const first = parts[nm + 1] ?? "?";
  return first.startsWith("@") ? `${first}/${parts[nm + 2] ?? "?"}` : first;
}

function folderInside(input: string, pkg: string): string {
  const marker = `node_modules/${pkg}/`;
  const at = input.lastIndexOf(marker);
  if (at < 0) return "(other)";
  const rest = input.slice(at + marker.length).split("/");
  return rest.length > 2 ? `${pkg}/${rest[0]}/${rest[1]}` : `${pkg}/${rest.join("/")}`;
}

function groups(map: Map<string, number>, total: number, limit: number): SizeGroup[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, bytes]) => ({ name, bytes, share: bytes / total }));
}

const OWN = "own code (src/, function entry)";

/** Package → packages it imports, from the metafile's inputs. */
function packageGraph(meta: Metafile): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [input, info] of Object.entries(meta.inputs)) {
    const from = packageOf(input);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const imp of info.imports) {
      if (imp.external) continue;
      const to = packageOf(imp.path);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Bytes that disappear with `pkg`: it plus what own code can no longer reach without it. */
function exclusiveBytes(graph: Map<string, Set<string>>, bytes: Map<string, number>, pkg: string): number {
  if (pkg === OWN) return bytes.get(pkg) ?? 0;
  const seen = new Set<string>([OWN]);
  const stack = [OWN];
  while (stack.length > 0) {
    const at = stack.pop() ?? OWN;
    for (const next of graph.get(at) ?? []) {
      if (next === pkg || seen.has(next)) continue;
      seen.add(next);
      stack.push(next);
    }
  }
  let sum = 0;
  for (const [name, b] of bytes) if (!seen.has(name)) sum += b;
  return sum;
}

function looksMinified(text: string): boolean {
  const lines = text.split("\n").length;
  return text.length / Math.max(lines, 1) > 300;
}

async function metafileFor(fn: string, minified: boolean): Promise<{ meta: Metafile; source: string }> {
  for (const candidate of METAFILE_CANDIDATES) {
    const path = resolve(ROOT, fn, candidate);
    if (!existsSync(path)) continue;
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (isMetafile(parsed)) return { meta: parsed, source: `${fn}/${candidate} (written by the build)` };
  }
  const outdir = resolve(ROOT, "bench/results/tmp/analysis");
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [resolve(ROOT, fn, "func.ts")],
    outfile: resolve(outdir, `${fn}.js`),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: minified,
    metafile: true,
    logLevel: "error",
  });
  return {
    meta: result.metafile,
    source: `analysis build by bench/ (esbuild, bundle, node20, cjs${minified ? ", minified" : ""})`,
  };
}

export async function measureBundle(fn: string): Promise<BundleSize> {
  const bundlePath = resolve(ROOT, fn, "dist/func.js");
  const text = readFileSync(bundlePath);
  const minified = looksMinified(text.toString("utf8"));
  const { meta, source } = await metafileFor(fn, minified);
  const output =
    Object.values(meta.outputs).find((o) => o.entryPoint !== undefined) ?? Object.values(meta.outputs)[0];
  const byPkg = new Map<string, number>();
  const perInput: Array<[string, number]> = [];
  for (const [input, info] of Object.entries(output?.inputs ?? {})) {
    const pkg = packageOf(input);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + info.bytesInOutput);
    perInput.push([input, info.bytesInOutput]);
  }
  const total = output?.bytes ?? 0;
  const byPackage = groups(byPkg, total, 8);
  const graph = packageGraph(meta);
  for (const g of byPackage) g.exclusiveBytes = exclusiveBytes(graph, byPkg, g.name);
  const largest = byPackage[0]?.name ?? "";
  const inside = new Map<string, number>();
  for (const [input, bytes] of perInput) {
    if (packageOf(input) !== largest) continue;
    const folder = folderInside(input, largest);
    inside.set(folder, (inside.get(folder) ?? 0) + bytes);
  }
  return {
    fn,
    bytes: statSync(bundlePath).size,
    gzipBytes: gzipSync(text).length,
    minified,
    breakdownSource: source,
    breakdownTotalBytes: total,
    byPackage,
    insideLargest: groups(inside, total, 5),
  };
}
