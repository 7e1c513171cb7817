/**
 * npm run build: bundles each function into <fn>/dist/func.js (CommonJS, Node 20, minified, one
 * self-contained file) plus <fn>/dist/package.json {"type":"commonjs"} so the bundle runs under plain
 * `node <fn>/dist/func.js` here (the repo's package.json says "type": "module") and in the image
 * (where func.js sits alone and .js means CommonJS anyway).
 * A metafile (<fn>/dist/meta.json) records what the bundle is made of (npm run bench reports it).
 *
 * Cold start is dominated by reading, compiling and evaluating the OCI SDK, so the build slims it
 * without changing any code path we use (slimOci below):
 * - oci-core's client.js holds four service clients; only ComputeClient is kept, and only the members
 *   our adapter calls (getInstance, instanceAction, listInstances, endpoint/region plumbing).
 * - oci-core's model index loads ~720 model modules eagerly; it becomes lazy getters for the models
 *   reachable from Instance and InstancePowerActionDetails (what those three operations touch).
 * - oci-common's index without the parts no path of ours reaches (OKE workload identity, session
 *   tokens, paginators, chunked uploads).
 * - the Compute waiters (and oci-workrequests behind them) are never created: stubbed.
 * - isomorphic-fetch / es6-promise polyfills: Node 20 has fetch and Promise; node-fetch is mapped to
 *   the built-in fetch (with Node-stream bodies, as oci-common expects); jsonwebtoken (only ever
 *   asked to decode) and uuid get small node:crypto-based stand-ins.
 * - the global Headers (which loads undici) is replaced by src/shims/headers.ts in bundled code; our
 *   transport speaks node:http.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const functions = ["start-compute", "stop-compute"] as const;
const MODEL_SEEDS = [
  "Instance",
  "InstancePowerActionDetails",
  // Instance pools (ComputeManagementClient): the pool, its summary and its members' summaries.
  "InstancePool",
  "InstancePoolSummary",
  "InstanceSummary",
];

const STUBS: Record<string, string> = {
  // oci-common only decodes tokens (never verifies them locally): a decoder without jsonwebtoken's
  // key-validation machinery (and semver) behind it.
  jsonwebtoken: [
    "function part(s) { return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')); }",
    "exports.decode = function decode(token, options) {",
    "  if (typeof token !== 'string') return null;",
    "  const parts = token.split('.');",
    "  if (parts.length !== 3) return null;",
    "  let header, payload;",
    "  try { header = part(parts[0]); payload = part(parts[1]); } catch { return null; }",
    "  if (!payload || typeof payload !== 'object') return null;",
    "  return options && options.complete ? { header, payload, signature: parts[2] } : payload;",
    "};",
  ].join("\n"),
  // Request ids and retry tokens: random UUIDs from node:crypto (same format as uuid's v1/v4).
  uuid: 'const { randomUUID } = require("node:crypto"); exports.v1 = exports.v4 = () => randomUUID();',
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

const WAITER =
  /(oci-core[\\/]lib[\\/](compute|computemanagement|blockstorage|virtualnetwork)|oci-containerengine[\\/]lib[\\/]containerengine|oci-containerinstances[\\/]lib[\\/]containerinstance)-waiter\.js$/;
const CLIENT = /oci-core[\\/]lib[\\/]client\.js$/;
const MODEL_INDEX = /oci-core[\\/]lib[\\/]model[\\/]index\.js$/;
const OCI_COMMON_INDEX = /oci-common[\\/]index\.js$/;

function fail(message: string): never {
  throw new Error(`build: ${message} (the OCI SDK changed shape? update scripts/build.ts)`);
}

const LAZY_PREAMBLE = [
  '"use strict";',
  'Object.defineProperty(exports, "__esModule", { value: true });',
  "function lazy(name, load) {",
  "  Object.defineProperty(exports, name, { enumerable: true, configurable: true, get() {",
  "    const value = load();",
  "    Object.defineProperty(exports, name, { enumerable: true, value });",
  "    return value;",
  "  } });",
  "}",
];

/**
 * Keeps the preamble (helpers + requires) and the ComputeClient and ComputeManagementClient (instance
 * pools) sections of oci-core's client.js.
 */
function computeClientOnly(source: string): string {
  const banner = source.indexOf("// ===============================================");
  const start = source.indexOf("var ComputeApiKeys;");
  const end = source.indexOf("exports.ComputeManagementClient = ComputeManagementClient;");
  const next = source.indexOf("var VirtualNetworkApiKeys;");
  if (banner < 0 || start < 0 || end < 0 || next < end) fail("client.js markers not found");
  const preamble = source
    .slice(0, banner)
    .replace(
      /^exports\.VirtualNetworkClient = .*$/m,
      "exports.ComputeManagementClient = exports.ComputeManagementApiKeys = exports.ComputeClient = exports.ComputeApiKeys = void 0;",
    )
    .replace(/^const (blockstorage|computemanagement|virtualnetwork)_waiter_1 = .*$/gm, "")
    .replace(/^const Breaker = require\("opossum"\);$/m, "");
  return `${preamble}\n${source.slice(start, next)}`;
}

/** What every kept client's constructor and setters need. */
const CLIENT_PLUMBING = [
  "constructor",
  "endpoint",
  "logger",
  "useRealmSpecificEndpointTemplate",
  "region",
  "regionId",
  "enableDualstackEndpoint",
  "shutdownCircuitBreaker",
  "close",
];

/** Per kept client class: the operations our adapters call (each must exist, or the build fails). */
const KEPT_OPERATIONS: Record<string, string[]> = {
  ComputeClient: ["getInstance", "instanceAction", "listInstances"],
  ComputeManagementClient: [
    "getInstancePool",
    "listInstancePools",
    "startInstancePool",
    "stopInstancePool",
    "softstopInstancePool",
    "listInstancePoolInstances",
  ],
};

/**
 * The other kinds' packages (loaded only when such a target comes up): each client keeps the
 * operations its adapter calls (src/oci-kinds.ts), and its model index loads lazily only the models
 * those operations name.
 */
const KIND_CLIENTS: Record<string, Record<string, string[]>> = {
  "oci-containerengine": {
    ContainerEngineClient: [
      "getNodePool",
      "listNodePools",
      "updateNodePool",
      "getWorkRequest",
      "listWorkRequestErrors",
    ],
  },
  "oci-containerinstances": {
    ContainerInstanceClient: [
      "getContainerInstance",
      "listContainerInstances",
      "startContainerInstance",
      "stopContainerInstance",
    ],
  },
};
const KIND_CLIENT = /(oci-containerengine|oci-containerinstances)[\\/]lib[\\/]client\.js$/;
const KIND_MODEL_INDEX = /(oci-containerengine|oci-containerinstances)[\\/]lib[\\/]model[\\/]index\.js$/;

function keptOf(path: string, pattern: RegExp): Record<string, string[]> {
  const pkg = pattern.exec(path)?.[1];
  const kept = pkg ? KIND_CLIENTS[pkg] : undefined;
  if (!kept) fail(`no kept operations for ${path}`);
  return kept;
}

/** The models a trimmed client names (model.X): the seeds of its lazy model index. */
function modelsNamedBy(source: string): string[] {
  return [...new Set([...source.matchAll(/model\.(\w+)/g)].map((m) => m[1] ?? ""))].filter((n) => n !== "");
}

/** Drops every other method of oci-core's kept clients (hundreds of operations we never call). */
function trimComputeClient(source: string): string {
  return trimClasses(source, KEPT_OPERATIONS);
}

/** Keeps the plumbing and the listed operations of each class; fails loudly if one is missing. */
function trimClasses(source: string, keep: Record<string, string[]>): string {
  const file = ts.createSourceFile("client.js", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const cuts: [number, number][] = [];
  for (const [className, operations] of Object.entries(keep)) {
    const cls = file.statements.find(
      (st): st is ts.ClassDeclaration => ts.isClassDeclaration(st) && st.name?.text === className,
    );
    if (!cls) fail(`class ${className} not found`);
    const wanted = new Set([...CLIENT_PLUMBING, ...operations]);
    const kept = new Set<string>();
    for (const member of cls.members) {
      const name = ts.isConstructorDeclaration(member) ? "constructor" : member.name?.getText(file);
      if (name && wanted.has(name)) kept.add(name);
      else cuts.push([member.getFullStart(), member.getEnd()]);
    }
    for (const needed of ["constructor", "endpoint", ...operations]) {
      if (!kept.has(needed)) fail(`${className}.${needed} not found`);
    }
  }
  cuts.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  for (const [from, to] of cuts) {
    out += source.slice(at, from);
    at = to;
  }
  return out + source.slice(at);
}

/** A model index with lazy getters for the models reachable from the seeds. */
async function lazyModelIndex(
  indexPath: string,
  seeds: readonly string[] = MODEL_SEEDS,
  minModels = 100,
): Promise<string> {
  const dir = dirname(indexPath);
  const index = await readFile(indexPath, "utf8");
  const files = new Map<string, string>();
  for (const m of index.matchAll(/const (\w+) = __importStar\(require\("\.\/([^"]+)"\)\);/g)) {
    if (m[1] && m[2]) files.set(m[1], m[2]);
  }
  if (files.size < minModels) fail("model index format not recognised");
  const needed = new Set<string>();
  const queue = [...seeds];
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
    .map(
      (name) =>
        `lazy(${JSON.stringify(name)}, () => require("./${files.get(name)}")[${JSON.stringify(name)}]);`,
    );
  return [...LAZY_PREAMBLE, ...lines].join("\n");
}

/**
 * oci-common's exports as [module, property] (null: the module namespace itself). Left out, and so
 * not bundled: OKE workload identity, session-token auth, paginators, chunked uploads.
 */
const OCI_COMMON_EXPORTS: Record<string, [string, string | null]> = {
  utils: ["./lib/utils", null],
  Region: ["./lib/region", "Region"],
  Realm: ["./lib/realm", "Realm"],
  EndpointBuilder: ["./lib/endpoint-builder", "EndpointBuilder"],
  LOG: ["./lib/log", "LOG"],
  Constants: ["./lib/constants", "default"],
  CircuitBreaker: ["./lib/circuit-breaker", "default"],
  ExponentialBackoffDelayStrategy: ["./lib/waiter", "ExponentialBackoffDelayStrategy"],
  MaxTimeTerminationStrategy: ["./lib/waiter", "MaxTimeTerminationStrategy"],
  genericWaiter: ["./lib/waiter", "genericWaiter"],
  genericTerminalConditionWaiter: ["./lib/waiter", "genericTerminalConditionWaiter"],
  MaxAttemptsTerminationStrategy: ["./lib/waiter", "MaxAttemptsTerminationStrategy"],
  FixedTimeDelayStrategy: ["./lib/waiter", "FixedTimeDelayStrategy"],
  GenericRetrier: ["./lib/retrier", "GenericRetrier"],
  NoRetryConfigurationDetails: ["./lib/retrier", "NoRetryConfigurationDetails"],
  OciSdkDefaultRetryConfiguration: ["./lib/retrier", "OciSdkDefaultRetryConfiguration"],
  InstancePrincipalsAuthenticationDetailsProviderBuilder: [
    "./lib/auth/instance-principals-authentication-detail-provider",
    "default",
  ],
  ResourcePrincipalAuthenticationDetailsProvider: [
    "./lib/auth/resource-principal-authentication-details-provider",
    "default",
  ],
  AbstractRequestingAuthenticationDetailsProvider: [
    "./lib/auth/abstract-requesting-authentication-detail-provider",
    "default",
  ],
  ConfigFileAuthenticationDetailsProvider: [
    "./lib/auth/config-file-auth",
    "ConfigFileAuthenticationDetailsProvider",
  ],
  ConfigFileReader: ["./lib/config-file-reader", "ConfigFileReader"],
  composeRequest: ["./lib/request-generator", "composeRequest"],
  composeResponse: ["./lib/response-generator", "composeResponse"],
  developerToolConfiguration: ["./lib/developertoolconfiguration", null],
  SimpleAuthenticationDetailsProvider: ["./lib/auth/auth", "SimpleAuthenticationDetailsProvider"],
  isRegionProvider: ["./lib/auth/auth", "isRegionProvider"],
  FetchHttpClient: ["./lib/http", "FetchHttpClient"],
  OciError: ["./lib/error", "OciError"],
  DefaultRequestSigner: ["./lib/signer", "DefaultRequestSigner"],
  getStringFromResponseBody: ["./lib/helper", "getStringFromResponseBody"],
  handleErrorResponse: ["./lib/helper", "handleErrorResponse"],
  mapContainer: ["./lib/helper", "mapContainer"],
  handleErrorBody: ["./lib/helper", "handleErrorBody"],
  convertStringToType: ["./lib/helper", "convertStringToType"],
  byteLength: ["./lib/helper", "byteLength"],
  ObjectSerializer: ["./lib/object-serializer", "ObjectSerializer"],
  Range: ["./lib/range", "Range"],
};

/**
 * The package's modules have require cycles that only resolve in the order its index loads them,
 * so the replacement loads the kept modules in that same order (on first use of any export).
 */
const OCI_COMMON_LOAD_ORDER = [
  "./lib/auth/auth",
  "./lib/error",
  "./lib/signer",
  "./lib/helper",
  "./lib/http",
  "./lib/object-serializer",
  "./lib/range",
  "./lib/utils",
  "./lib/region",
  "./lib/realm",
  "./lib/endpoint-builder",
  "./lib/log",
  "./lib/constants",
  "./lib/circuit-breaker",
  "./lib/waiter",
  "./lib/retrier",
  "./lib/auth/instance-principals-authentication-detail-provider",
  "./lib/auth/resource-principal-authentication-details-provider",
  "./lib/auth/abstract-requesting-authentication-detail-provider",
  "./lib/auth/config-file-auth",
  "./lib/config-file-reader",
  "./lib/request-generator",
  "./lib/response-generator",
  "./lib/developertoolconfiguration",
];

function slimOciCommonIndex(): string {
  const used = new Set(Object.values(OCI_COMMON_EXPORTS).map(([path]) => path));
  for (const path of used)
    if (!OCI_COMMON_LOAD_ORDER.includes(path)) fail(`${path} has no place in the load order`);
  const lines = [
    '"use strict";',
    'Object.defineProperty(exports, "__esModule", { value: true });',
    "const m = {};",
    ...OCI_COMMON_LOAD_ORDER.map((path) => `m[${JSON.stringify(path)}] = require(${JSON.stringify(path)});`),
    ...Object.entries(OCI_COMMON_EXPORTS).map(([name, [path, property]]) => {
      const value = property
        ? `m[${JSON.stringify(path)}][${JSON.stringify(property)}]`
        : `m[${JSON.stringify(path)}]`;
      return `exports[${JSON.stringify(name)}] = ${value};`;
    }),
  ];
  return lines.join("\n");
}

export const slimOci: Plugin = {
  name: "slim-oci",
  setup(b) {
    b.onResolve({ filter: /^(isomorphic-fetch|es6-promise|node-fetch|jsonwebtoken|uuid)$/ }, (args) => ({
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
        "exports.ComputeWaiter = exports.ComputeManagementWaiter = exports.BlockstorageWaiter = exports.VirtualNetworkWaiter = unused;\n" +
        "exports.ContainerEngineWaiter = exports.ContainerInstanceWaiter = unused;",
      loader: "js",
    }));
    b.onLoad({ filter: CLIENT }, async (args) => ({
      contents: trimComputeClient(computeClientOnly(await readFile(args.path, "utf8"))),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
    b.onLoad({ filter: MODEL_INDEX }, async (args) => ({
      contents: await lazyModelIndex(args.path),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
    b.onLoad({ filter: KIND_CLIENT }, async (args) => ({
      contents: trimClasses(await readFile(args.path, "utf8"), keptOf(args.path, KIND_CLIENT)),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
    b.onLoad({ filter: KIND_MODEL_INDEX }, async (args) => {
      const clientPath = join(dirname(args.path), "..", "client.js");
      const client = trimClasses(await readFile(clientPath, "utf8"), keptOf(args.path, KIND_MODEL_INDEX));
      return {
        contents: await lazyModelIndex(args.path, modelsNamedBy(client), 50),
        loader: "js",
        resolveDir: dirname(args.path),
      };
    });
    b.onLoad({ filter: OCI_COMMON_INDEX }, (args) => ({
      contents: slimOciCommonIndex(),
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
    inject: [join(root, "src/shims/headers.ts")],
  });
  await writeFile(join(outdir, "meta.json"), JSON.stringify(result.metafile));
  await writeFile(join(outdir, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
  const output = Object.values(result.metafile.outputs)[0];
  return { bytes: output?.bytes ?? 0 };
}

// Run as a script (npm run build); importing this module (e.g. for slimOci) builds nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const fn of functions) {
    const { bytes } = await bundle(fn);
    process.stdout.write(`${fn}/dist/func.js ${(bytes / 1024).toFixed(0)} KiB\n`);
  }
}
