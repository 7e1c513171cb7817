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
 *   our adapter calls (getInstance, instanceAction, listInstances, listShapes, endpoint/region plumbing).
 * - oci-core's model index loads ~720 model modules eagerly; it becomes lazy getters for the models
 *   reachable from Instance, InstancePowerActionDetails and Shape (what those four operations touch).
 * - oci-common's index without the parts no path of ours reaches (OKE workload identity, session
 *   tokens, paginators, chunked uploads).
 * - the Compute waiters (and oci-workrequests behind them) are never created: stubbed.
 * - isomorphic-fetch / es6-promise polyfills: Node 20 has fetch and Promise; node-fetch is mapped to
 *   the built-in fetch (with Node-stream bodies, as oci-common expects); jsonwebtoken (only ever
 *   asked to decode) and uuid get small node:crypto-based stand-ins.
 * - the global Headers (which loads undici) is replaced by src/shims/headers.ts in bundled code; our
 *   transport speaks node:http.
 * - sshpk, http-signature and jssha (with tweetnacl, jsbn, asn1, jsprim… behind them: over half of
 *   the bundle) become src/shims/*.ts over node:crypto: what oci-common asks of them is parsing a PEM
 *   key or certificate, an RSA-SHA256 draft-cavage signature and a SHA-256 digest. Every auth path
 *   (resource principal, instance principal, config file) goes through the shims.
 *
 * Works or fails loudly: every rewrite below states how many matches it expects (a regex removal, a
 * marker, a whitelisted member, a kept model, an oci-common export, a stub or shim that must be
 * resolved, an onLoad that must fire) and the build fails naming the rule when an SDK bump changes
 * that count; packages that must not be in a bundle (FORBIDDEN_IN_BUNDLE) are checked in its metafile.
 * npm run build also compiles test/build/sdk-probe.ts to dist/sdk-probe.cjs with the same slimming:
 * test/build/differential.test.ts runs it against the full SDK.
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
  "Shape",
  // Instance pools (ComputeManagementClient): the pool, its summary and its members' summaries.
  "InstancePool",
  "InstancePoolSummary",
  "InstanceSummary",
];
/** Model modules oci-core's index loads, and how many of them the seeds reach (kept, lazily). */
const MODEL_INDEX_ENTRIES = 720;
const MODELS_REACHED = 63;
/** The same counts for the other kinds' model indexes (Container Engine, Container Instances). */
const KIND_INDEX_ENTRIES_CE = 118;
const KIND_MODELS_REACHED_CE = 31;
const KIND_INDEX_ENTRIES_CI = 92;
const KIND_MODELS_REACHED_CI = 25;

/** Replacements over node:crypto for what oci-common asks of these packages (see the file header). */
const SHIMS: Record<string, string> = {
  sshpk: "src/shims/sshpk.ts",
  "http-signature": "src/shims/http-signature.ts",
  jssha: "src/shims/jssha.ts",
};
/** Packages a bundle must not contain: what the shims and stubs replace, and what they pulled in. */
export const FORBIDDEN_IN_BUNDLE = [
  "sshpk",
  "http-signature",
  "jssha",
  "tweetnacl",
  "jsbn",
  "ecc-jsbn",
  "bcrypt-pbkdf",
  "asn1",
  "jsprim",
  "jsonwebtoken",
  "uuid",
  "node-fetch",
  "isomorphic-fetch",
  "es6-promise",
  "oci-workrequests",
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

/** Fails the build, naming the rule, unless `found` is exactly what the rule expects. */
export function expectCount(rule: string, found: number, expected: number): void {
  if (found !== expected) fail(`rule "${rule}" matched ${found} time(s), expected exactly ${expected}`);
}

/** String.replace with a global regex that must match exactly `expected` times. */
export function replaceCounted(
  source: string,
  rule: string,
  pattern: RegExp,
  replacement: string,
  expected: number,
): string {
  if (!pattern.global) fail(`rule "${rule}" needs a global regex to count its matches`);
  expectCount(rule, [...source.matchAll(pattern)].length, expected);
  return source.replace(pattern, replacement);
}

/** The index of a marker that must occur exactly once. */
function uniqueMarker(source: string, marker: string): number {
  expectCount(`marker ${marker}`, source.split(marker).length - 1, 1);
  return source.indexOf(marker);
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
export function computeClientOnly(source: string): string {
  const banner = source.indexOf("// ===============================================");
  const start = uniqueMarker(source, "var ComputeApiKeys;");
  const end = uniqueMarker(source, "exports.ComputeManagementClient = ComputeManagementClient;");
  const next = uniqueMarker(source, "var VirtualNetworkApiKeys;");
  if (banner < 0 || banner > start || end < start || next < end) fail("client.js markers out of order");
  let preamble = source.slice(0, banner);
  preamble = replaceCounted(
    preamble,
    "client.js: the exports line of the four clients",
    /^exports\.VirtualNetworkClient = .*$/gm,
    "exports.ComputeManagementClient = exports.ComputeManagementApiKeys = exports.ComputeClient = exports.ComputeApiKeys = void 0;",
    1,
  );
  preamble = replaceCounted(
    preamble,
    "client.js: the other three clients' waiter requires",
    /^const (blockstorage|computemanagement|virtualnetwork)_waiter_1 = .*$/gm,
    "",
    3,
  );
  preamble = replaceCounted(
    preamble,
    "client.js: the opossum require (no circuit breaker for Compute)",
    /^const Breaker = require\("opossum"\);$/gm,
    "",
    1,
  );
  return `${preamble}\n${source.slice(start, next)}`;
}

/** What every kept client's constructor and setters need, with how many members of that name it has. */
const CLIENT_PLUMBING: [string, number][] = [
  ["constructor", 1],
  ["endpoint", 2], // a getter and a setter
  ["logger", 1],
  ["useRealmSpecificEndpointTemplate", 1],
  ["region", 1],
  ["regionId", 1],
  ["enableDualstackEndpoint", 1],
  ["shutdownCircuitBreaker", 1],
  ["close", 1],
];

/** The Container Engine and Container Instances clients have no dual-stack setter. */
const KIND_PLUMBING = CLIENT_PLUMBING.filter(([name]) => name !== "enableDualstackEndpoint");

/** Per kept client class: the operations our adapters call; each must exist exactly once. */
type KeptOperations = Record<string, string[]>;

const CORE_OPERATIONS: KeptOperations = {
  ComputeClient: ["getInstance", "instanceAction", "listInstances", "listShapes"],
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
 * The other kinds' packages (src/oci-kinds.ts, loaded only when such a target comes up): each client
 * keeps the operations its adapter calls, and its model index loads lazily only the models those
 * operations name, with the counts each package's index must show.
 */
const KIND_CLIENTS: Record<string, { operations: KeptOperations; indexEntries: number; reached: number }> = {
  "oci-containerengine": {
    operations: {
      ContainerEngineClient: [
        "getNodePool",
        "listNodePools",
        "updateNodePool",
        "getWorkRequest",
        "listWorkRequestErrors",
      ],
    },
    indexEntries: KIND_INDEX_ENTRIES_CE,
    reached: KIND_MODELS_REACHED_CE,
  },
  "oci-containerinstances": {
    operations: {
      ContainerInstanceClient: [
        "getContainerInstance",
        "listContainerInstances",
        "startContainerInstance",
        "stopContainerInstance",
      ],
    },
    indexEntries: KIND_INDEX_ENTRIES_CI,
    reached: KIND_MODELS_REACHED_CI,
  },
};
const KIND_CLIENT = /(oci-containerengine|oci-containerinstances)[\\/]lib[\\/]client\.js$/;
const KIND_MODEL_INDEX = /(oci-containerengine|oci-containerinstances)[\\/]lib[\\/]model[\\/]index\.js$/;

function kindOf(path: string, pattern: RegExp): { name: string; spec: (typeof KIND_CLIENTS)[string] } {
  const name = pattern.exec(path)?.[1];
  const spec = name ? KIND_CLIENTS[name] : undefined;
  if (!name || !spec) fail(`no kept operations for ${path}`);
  return { name, spec };
}

/** The models a trimmed client names (model.X): the seeds of its lazy model index. */
function modelsNamedBy(source: string): string[] {
  return [...new Set([...source.matchAll(/model\.(\w+)/g)].map((m) => m[1] ?? ""))].filter((n) => n !== "");
}

/** Drops every other method of oci-core's kept clients (hundreds of operations we never call). */
export function trimComputeClient(source: string): string {
  return trimClasses(source, CORE_OPERATIONS);
}

/** Keeps the plumbing and the listed operations of each class; every count must be exact. */
export function trimClasses(
  source: string,
  keep: KeptOperations,
  plumbing: readonly [string, number][] = CLIENT_PLUMBING,
): string {
  const file = ts.createSourceFile("client.js", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const cuts: [number, number][] = [];
  for (const [className, operations] of Object.entries(keep)) {
    const cls = file.statements.find(
      (st): st is ts.ClassDeclaration => ts.isClassDeclaration(st) && st.name?.text === className,
    );
    if (!cls) fail(`class ${className} not found`);
    const wanted = new Map<string, number>([...plumbing, ...operations.map((o): [string, number] => [o, 1])]);
    const kept = new Map<string, number>();
    for (const member of cls.members) {
      const name = ts.isConstructorDeclaration(member) ? "constructor" : member.name?.getText(file);
      if (name && wanted.has(name)) kept.set(name, (kept.get(name) ?? 0) + 1);
      else cuts.push([member.getFullStart(), member.getEnd()]);
    }
    for (const [name, expected] of wanted) {
      expectCount(`${className} member whitelist: ${name}`, kept.get(name) ?? 0, expected);
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
export async function lazyModelIndex(
  indexPath: string,
  seeds: readonly string[] = MODEL_SEEDS,
  counts: { entries: number; reached: number } = { entries: MODEL_INDEX_ENTRIES, reached: MODELS_REACHED },
): Promise<string> {
  const dir = dirname(indexPath);
  const index = await readFile(indexPath, "utf8");
  const files = new Map<string, string>();
  for (const m of index.matchAll(/const (\w+) = __importStar\(require\("\.\/([^"]+)"\)\);/g)) {
    if (m[1] && m[2]) files.set(m[1], m[2]);
  }
  // Every require of the index must be one the pattern understood, or a model would go missing.
  expectCount("model index: require lines", [...index.matchAll(/require\(/g)].length, files.size);
  expectCount(
    `model index: model modules of ${indexPath.replace(/^.*node_modules[\\/]/, "")}`,
    files.size,
    counts.entries,
  );
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
  expectCount(`models reached from ${seeds.join(", ")}`, needed.size, counts.reached);
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

/**
 * Each kept export and module must be in the real index exactly as expected: the export declared
 * once, each module required once, and the modules in the index's own order.
 */
export function checkOciCommonIndex(original: string): void {
  const declared = (original.match(/^exports\.\w+ = (exports\.\w+ = )*void 0;$/m)?.[0] ?? "")
    .split(" = ")
    .map((part) => part.replace(/^exports\./, ""));
  for (const name of Object.keys(OCI_COMMON_EXPORTS)) {
    expectCount(`oci-common export ${name}`, declared.filter((d) => d === name).length, 1);
  }
  const required = [...original.matchAll(/require\("(\.\/lib\/[^"]+)"\)/g)].map((m) => m[1] ?? "");
  for (const path of OCI_COMMON_LOAD_ORDER) {
    expectCount(`oci-common module ${path}`, required.filter((r) => r === path).length, 1);
  }
  const order = required.filter((path) => OCI_COMMON_LOAD_ORDER.includes(path));
  if (order.join() !== OCI_COMMON_LOAD_ORDER.join())
    fail("oci-common's index loads its modules in another order");
}

function slimOciCommonIndex(original: string): string {
  checkOciCommonIndex(original);
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

/** How often each rewrite fired in one build: each must fire exactly as often as expected. */
const EXPECTED_LOADS: Record<string, number> = {
  "onLoad oci-core compute-waiter.js (stubbed)": 1,
  "onLoad oci-core client.js (Compute and ComputeManagement clients only)": 1,
  "onLoad oci-core model/index.js (lazy)": 1,
  "onLoad oci-common index.js (slim)": 1,
  ...Object.fromEntries(Object.keys(STUBS).map((name) => [`stub ${name}`, 1])),
  ...Object.fromEntries(Object.keys(SHIMS).map((name) => [`shim ${name}`, 1])),
};

/** Rewrites of the other kinds' packages (each fires at most once: the SDK probe has none). */
const KIND_LOADS = Object.keys(KIND_CLIENTS).flatMap((name) => [
  `onLoad ${name} client.js (kept operations)`,
  `onLoad ${name} model/index.js (lazy)`,
  `onLoad oci-core ${name === "oci-containerengine" ? "containerengine" : "containerinstance"}-waiter.js (stubbed)`,
]);

/** The slimming plugin; a fresh one per build, since it counts what it rewrote. */
export function slimOci(): Plugin {
  const fired = new Map<string, number>();
  const count = (rule: string): void => {
    fired.set(rule, (fired.get(rule) ?? 0) + 1);
  };
  const stubNames = Object.keys(STUBS).join("|");
  const shimNames = Object.keys(SHIMS)
    .map((n) => n.replace(/-/g, "\\-"))
    .join("|");
  return {
    name: "slim-oci",
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(${stubNames})$`) }, (args) => ({
        path: args.path,
        namespace: "stub",
      }));
      b.onResolve({ filter: new RegExp(`^(${shimNames})$`) }, (args) => {
        const shim = SHIMS[args.path];
        if (!shim) return undefined;
        return { path: join(root, shim) };
      });
      b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => {
        count(`stub ${args.path}`);
        return { contents: STUBS[args.path] ?? "", loader: "js" };
      });
      b.onLoad({ filter: /src[\\/]shims[\\/](sshpk|http-signature|jssha)\.ts$/ }, async (args) => {
        count(`shim ${args.path.replace(/^.*[\\/]|\.ts$/g, "")}`);
        return { contents: await readFile(args.path, "utf8"), loader: "ts" };
      });
      b.onLoad({ filter: WAITER }, (args) => {
        count(`onLoad oci-core ${args.path.split(/[\\/]/).pop() ?? ""} (stubbed)`);
        return {
          contents:
            "function unused() { throw new Error('waiters are not bundled'); }\n" +
            "exports.ComputeWaiter = exports.ComputeManagementWaiter = exports.BlockstorageWaiter = exports.VirtualNetworkWaiter = unused;\n" +
            "exports.ContainerEngineWaiter = exports.ContainerInstanceWaiter = unused;",
          loader: "js",
        };
      });
      b.onLoad({ filter: CLIENT }, async (args) => {
        count("onLoad oci-core client.js (Compute and ComputeManagement clients only)");
        return {
          contents: trimComputeClient(computeClientOnly(await readFile(args.path, "utf8"))),
          loader: "js",
          resolveDir: dirname(args.path),
        };
      });
      b.onLoad({ filter: MODEL_INDEX }, async (args) => {
        count("onLoad oci-core model/index.js (lazy)");
        return { contents: await lazyModelIndex(args.path), loader: "js", resolveDir: dirname(args.path) };
      });
      b.onLoad({ filter: KIND_CLIENT }, async (args) => {
        const { name, spec } = kindOf(args.path, KIND_CLIENT);
        count(`onLoad ${name} client.js (kept operations)`);
        return {
          contents: trimClasses(await readFile(args.path, "utf8"), spec.operations, KIND_PLUMBING),
          loader: "js",
          resolveDir: dirname(args.path),
        };
      });
      b.onLoad({ filter: KIND_MODEL_INDEX }, async (args) => {
        const { name, spec } = kindOf(args.path, KIND_MODEL_INDEX);
        count(`onLoad ${name} model/index.js (lazy)`);
        const client = trimClasses(
          await readFile(join(dirname(args.path), "..", "client.js"), "utf8"),
          spec.operations,
          KIND_PLUMBING,
        );
        const counts = { entries: spec.indexEntries, reached: spec.reached };
        return {
          contents: await lazyModelIndex(args.path, modelsNamedBy(client), counts),
          loader: "js",
          resolveDir: dirname(args.path),
        };
      });
      b.onLoad({ filter: OCI_COMMON_INDEX }, async (args) => {
        count("onLoad oci-common index.js (slim)");
        return {
          contents: slimOciCommonIndex(await readFile(args.path, "utf8")),
          loader: "js",
          resolveDir: dirname(args.path),
        };
      });
      b.onEnd((result) => {
        if (result.errors.length > 0) return;
        for (const [rule, expected] of Object.entries(EXPECTED_LOADS))
          expectCount(rule, fired.get(rule) ?? 0, expected);
        // The kinds' rewrites fire once in a function bundle and not at all in the SDK probe.
        for (const rule of KIND_LOADS)
          if ((fired.get(rule) ?? 0) > 1) expectCount(rule, fired.get(rule) ?? 0, 1);
        for (const rule of fired.keys())
          if (!(rule in EXPECTED_LOADS) && !KIND_LOADS.includes(rule)) fail(`unexpected rewrite "${rule}"`);
      });
    },
  };
}

/** Fails naming the package when a bundle contains one it must not (FORBIDDEN_IN_BUNDLE). */
export function checkBundleInputs(inputs: readonly string[], what: string): void {
  for (const pkg of FORBIDDEN_IN_BUNDLE) {
    const found = inputs.filter((path) => path.includes(`node_modules/${pkg}/`)).length;
    expectCount(`${what} contains no module of ${pkg}`, found, 0);
  }
}

interface Bundle {
  entry: string;
  outfile: string;
}

const BUNDLES: Bundle[] = [
  ...functions.map((fn) => ({ entry: `${fn}/func.ts`, outfile: `${fn}/dist/func.js` })),
  // The differential test's probe: the bundle's SDK, slimmed exactly as the functions' is.
  { entry: "test/build/sdk-probe.ts", outfile: "dist/sdk-probe.cjs" },
];

async function bundle({ entry, outfile }: Bundle): Promise<{ bytes: number }> {
  const outdir = dirname(join(root, outfile));
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(root, entry)],
    outfile: join(root, outfile),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    plugins: [slimOci()],
    inject: [join(root, "src/shims/headers.ts")],
  });
  checkBundleInputs(Object.keys(result.metafile.inputs), outfile);
  if (outfile.endsWith("/func.js")) {
    await writeFile(join(outdir, "meta.json"), JSON.stringify(result.metafile));
    await writeFile(join(outdir, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
  }
  const output = Object.values(result.metafile.outputs)[0];
  return { bytes: output?.bytes ?? 0 };
}

// Run as a script (npm run build); importing this module (e.g. for slimOci) builds nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const target of BUNDLES) {
    const { bytes } = await bundle(target);
    process.stdout.write(`${target.outfile} ${(bytes / 1024).toFixed(0)} KiB\n`);
  }
}
