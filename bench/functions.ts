/** The function builds the benchmark runs: the shipped bundles, an unbundled build, a bare FDK baseline. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { BenchError } from "./errors.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const BUNDLES = {
  "start-compute": resolve(ROOT, "start-compute/dist/func.js"),
  "stop-compute": resolve(ROOT, "stop-compute/dist/func.js"),
} as const;

export const BARE_FDK = resolve(ROOT, "bench/fixtures/hello-fdk.cjs");

const START_ENTRY = resolve(ROOT, "start-compute/func.ts");
const UNBUNDLED_OUT = resolve(ROOT, "bench/results/tmp/unbundled/start-compute.mjs");

/** Fails loudly when a piece the benchmark needs has not landed or was not built. */
export function requireBundles(): void {
  for (const [name, bundle] of Object.entries(BUNDLES)) {
    if (existsSync(bundle)) continue;
    const entry = resolve(ROOT, name, "func.ts");
    throw new BenchError(
      existsSync(entry)
        ? `${name}/dist/func.js is missing: run \`npm run build\` before \`npm run bench\``
        : `${name} is not there yet (${name}/func.ts is missing): the function cannot be measured`,
    );
  }
}

/**
 * The unbundled build: start-compute's own TypeScript compiled to one plain-JS ESM file next to the
 * repository's node_modules, with every package left external (`packages: "external"`), so the
 * process loads oci-core, oci-common and the FDK from node_modules file by file, as a function
 * shipped with node_modules would. Plain JS, so no TypeScript loader's cost is measured.
 */
export async function buildUnbundled(): Promise<string> {
  if (!existsSync(START_ENTRY)) {
    throw new BenchError("start-compute/func.ts is missing: cannot build the unbundled variant");
  }
  await mkdir(dirname(UNBUNDLED_OUT), { recursive: true });
  await build({
    entryPoints: [START_ENTRY],
    outfile: UNBUNDLED_OUT,
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "error",
  });
  return UNBUNDLED_OUT;
}
