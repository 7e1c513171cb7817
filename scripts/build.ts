/**
 * npm run build: bundles each function into <fn>/dist/func.js (CommonJS, Node 20, minified, one
 * self-contained file) plus <fn>/dist/package.json {"type":"commonjs"} so the bundle runs under plain
 * `node <fn>/dist/func.js` here (the repo's package.json says "type": "module") and in the image.
 * A metafile (<fn>/dist/meta.json) records what the bundle is made of (npm run bench reports it).
 *
 * Cold start is dominated by reading and compiling the OCI SDK, so the build slims it without
 * changing any code path we use (see slimOci below):
 * - oci-core's client.js holds four service clients; only ComputeClient is kept.
 * - oci-core's model index loads ~720 model modules eagerly; it is replaced by lazy getters for the
 *   models reachable from Instance and InstancePowerActionDetails (what our three operations touch).
 * - the Compute waiters (and oci-workrequests behind them) are never created: stubbed.
 * - isomorphic-fetch / node-fetch / es6-promise polyfills: Node 20 has fetch and Promise built in.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const functions = ["start-compute", "stop-compute"] as const;
const MODEL_SEEDS = ["Instance", "InstancePowerActionDetails"];

const STUBS: Record<string, string> = {
  "isomorphic-fetch": "module.exports = {};",
  "es6-promise": "exports.polyfill = function () {}; exports.Promise = Promise;",
  // oci-common reads node-fetch bodies as Node streams (instance principal certificates).
  "node-fetch": [
    'const { Readable } = require("node:stream");',
    "async function nodeFetch(url, init) {",
    "  const res = await fetch(url, init);",
    "  let body;",
    "  return {",
    "    ok: res.ok, status: res.status, statusText: res.statusText, headers: res.headers, url: res.url,",
    "    get body() { return (body ??= res.body ? Readable.fromWeb(res.body) : Readable.from([])); },",
    "    text: () => res.text(), json: () => res.json(), arrayBuffer: () => res.arrayBuffer(),",
    "  };",
    "}",
    "module.exports = nodeFetch; module.exports.default = nodeFetch;",
  ].join("\n"),
};

const WAITER = /oci-core[\\/]lib[\\/](compute|computemanagement|blockstorage|virtualnetwork)-waiter\.js$/;
const CLIENT = /oci-core[\\/]lib[\\/]client\.js$/;
const MODEL_INDEX = /oci-core[\\/]lib[\\/]model[\\/]index\.js$/;

function fail(message: string): never {
  throw new Error(`build: ${message} (oci-core changed shape? update scripts/build.ts)`);
}

/** Keeps the preamble (helpers + requires) and the ComputeClient section of oci-core's client.js. */
export function computeClientOnly(source: string): string {
  const banner = source.indexOf("// ===============================================");
  const start = source.indexOf("var ComputeApiKeys;");
  const endMarker = "exports.ComputeClient = ComputeClient;";
  const end = source.indexOf(endMarker);
  const next = source.indexOf("var ComputeManagementApiKeys;");
  if (banner < 0 || start < 0 || end < 0 || next < end) fail("client.js markers not found");
  const preamble = source
    .slice(0, banner)
    .replace(
      /^exports\.VirtualNetworkClient = .*$/m,
      "exports.ComputeClient = exports.ComputeApiKeys = void 0;",
    )
    .replace(/^const (blockstorage|computemanagement|virtualnetwork)_waiter_1 = .*$/gm, "")
    .replace(/^const Breaker = require\("opossum"\);$/m, "");
  return `${preamble}\n${source.slice(start, next)}`;
}

/** A model index with lazy getters for the models reachable from the seeds. */
async function lazyModelIndex(indexPath: string): Promise<string> {
  const dir = dirname(indexPath);
  const index = await readFile(indexPath, "utf8");
  const files = new Map<string, string>();
  for (const m of index.matchAll(/const (\w+) = __importStar\(require\("\.\/([^"]+)"\)\);/g)) {
    if (m[1] && m[2]) files.set(m[1], m[2]);
  }
  if (files.size < 100) fail("model index format not recognised");
  const needed = new Set<string>();
  const queue = [...MODEL_SEEDS];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (needed.has(name)) continue;
    const file = files.get(name);
    if (!file) fail(`model ${name} not in the index`);
    needed.add(name);
    const text = await readFile(join(dir, `${file}.js`), "utf8");
    for (const ref of text.matchAll(/model\.(\w+)/g)) {
      if (ref[1] && files.has(ref[1]) && !needed.has(ref[1])) queue.push(ref[1]);
    }
  }
  const lines = [...needed]
    .sort()
    .map((name) => `lazy(${JSON.stringify(name)}, () => require("./${files.get(name)}"));`);
  return [
    '"use strict";',
    'Object.defineProperty(exports, "__esModule", { value: true });',
    "function lazy(name, load) {",
    "  Object.defineProperty(exports, name, { enumerable: true, configurable: true, get() {",
    "    const value = load()[name];",
    "    Object.defineProperty(exports, name, { enumerable: true, value });",
    "    return value;",
    "  } });",
    "}",
    ...lines,
  ].join("\n");
}

const slimOci: Plugin = {
  name: "slim-oci",
  setup(b) {
    b.onResolve({ filter: /^(isomorphic-fetch|es6-promise|node-fetch)$/ }, (args) => ({
      path: args.path,
      namespace: "stub",
    }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => ({
      contents: STUBS[args.path] ?? "",
      loader: "js",
    }));
    b.onLoad({ filter: WAITER }, () => ({
      contents:
        "function unused() { throw new Error('waiters are not bundled'); }\n" +
        "exports.ComputeWaiter = exports.ComputeManagementWaiter = exports.BlockstorageWaiter = exports.VirtualNetworkWaiter = unused;",
      loader: "js",
    }));
    b.onLoad({ filter: CLIENT }, async (args) => ({
      contents: computeClientOnly(await readFile(args.path, "utf8")),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
    b.onLoad({ filter: MODEL_INDEX }, async (args) => ({
      contents: await lazyModelIndex(args.path),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

async function bundle(fn: (typeof functions)[number]): Promise<{ bytes: number }> {
  const outdir = join(root, fn, "dist");
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(root, fn, "func.ts")],
    outfile: join(outdir, "func.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    plugins: [slimOci],
  });
  await writeFile(join(outdir, "meta.json"), JSON.stringify(result.metafile));
  await writeFile(join(outdir, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
  const output = Object.values(result.metafile.outputs)[0];
  return { bytes: output?.bytes ?? 0 };
}

for (const fn of functions) {
  const { bytes } = await bundle(fn);
  process.stdout.write(`${fn}/dist/func.js ${(bytes / 1024).toFixed(0)} KiB\n`);
}
