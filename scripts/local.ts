/**
 * `npm start`: the whole loop on this machine, with no cloud account.
 *
 * Builds the bundles if they are stale, starts the emulator with a sample tenancy (a management
 * instance and tagged target instances), then invokes stop-compute and start-compute the way the
 * OCI CLI does (FunctionsManagementClient.getFunction for the invoke endpoint, then
 * FunctionsInvokeClient.invokeFunction, API-key signed), and prints a timeline of every instance's
 * states. `--keep` leaves the stack running and prints how to call it (curl, the OCI CLI and the Fn
 * CLI); run again with the same `--port`, it reuses .local/'s API key so configured clients keep working.
 */
import { spawnSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { NoRetryConfigurationDetails, Region, SimpleAuthenticationDetailsProvider } from "oci-common";
import { FunctionsInvokeClient, FunctionsManagementClient, requests } from "oci-functions";
import { fingerprintOf } from "../emulator/src/auth.js";
import type {
  GeneratedApiKey,
  InstanceJson,
  InstanceWithHistory,
  RunningEmulator,
} from "../emulator/src/index.js";
import { ociConfigProfile, startEmulator } from "../emulator/src/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const FLEET = "ocid1.compartment.oc1..aaaaaaaalocalfleet";
const OPS = "ocid1.compartment.oc1..aaaaaaaalocalops";
const START_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaalocalstartcompute";
const STOP_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaalocalstopcompute";
/** The Functions application, named as Terraform names it with the default name_prefix. */
const APP = { id: "ocid1.fnapp.oc1.iad.aaaaaaaalocalpowerapp", name: "oci-compute-power-app" };
const OPERATOR = "ocid1.user.oc1..aaaaaaaalocaloperator";
const LOCAL_DIR = join(ROOT, ".local");
const KEY_FILE = join(LOCAL_DIR, "operator-key.pem");
const SCHEDULE_TAGS = { Schedule: "office-hours" };
const NODE_POOL = "ocid1.nodepool.oc1.iad.aaaaaaaalocalokeworkers";
const FUNCTIONS = ["start-compute", "stop-compute"] as const;

interface Options {
  keep: boolean;
  timeScale: number;
  port: number;
}

function usage(): string {
  return [
    "usage: npm start [-- --keep] [--time-scale X] [--port N]",
    "  --keep          leave the local stack running and print how to call it (Ctrl-C stops it)",
    "  --time-scale X  multiply OCI's transition times by X (default 0.1: a 30 s start takes 3 s)",
    "  --port N        emulator port (default 0: a free port; with --keep, 8080 is a handy choice)",
  ].join("\n");
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      keep: { type: "boolean", default: false },
      "time-scale": { type: "string", default: "0.1" },
      port: { type: "string", default: "0" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const timeScale = Number(values["time-scale"]);
  const port = Number(values.port);
  if (!(timeScale > 0 && timeScale <= 10)) throw new Error("--time-scale must be a number in (0, 10]");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be 0..65535");
  return { keep: values.keep, timeScale, port };
}

/** Newest modification time of the sources that go into the bundles. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "dist" || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function buildIfStale(): void {
  const sources = Math.max(...["src", ...FUNCTIONS].map((d) => newestSource(join(ROOT, d))));
  const stale = FUNCTIONS.some((fn) => {
    const bundle = join(ROOT, fn, "dist", "func.js");
    return !existsSync(bundle) || statSync(bundle).mtimeMs < sources;
  });
  if (!stale) return;
  console.log("building the function bundles (npm run build) ...");
  const result = spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) throw new Error("npm run build failed");
}

function sampleInstances(): Array<Partial<InstanceJson> & { id: string }> {
  const target = (n: number, name: string, shape: string): Partial<InstanceJson> & { id: string } => ({
    id: `ocid1.instance.oc1.iad.aaaaaaaalocaltarget${n}`,
    compartmentId: FLEET,
    displayName: name,
    lifecycleState: "RUNNING",
    shape,
    freeformTags: { ...SCHEDULE_TAGS, Team: "ml" },
  });
  return [
    {
      id: "ocid1.instance.oc1.iad.aaaaaaaalocalmgmt",
      compartmentId: OPS,
      displayName: "mgmt-1 (runs cron)",
      lifecycleState: "RUNNING",
      shape: "VM.Standard.E4.Flex",
    },
    target(1, "gpu-trainer-1", "BM.GPU.A10.4"),
    target(2, "dev-box-1", "VM.Standard.E4.Flex"),
    target(3, "test-runner-1", "VM.Standard.E4.Flex"),
    {
      id: "ocid1.instance.oc1.iad.aaaaaaaalocaldb",
      compartmentId: FLEET,
      displayName: "db-1 (untagged: never touched)",
      lifecycleState: "RUNNING",
      shape: "VM.Standard.E4.Flex",
    },
  ];
}

interface Invoker {
  invoke(functionId: string, body: unknown): Promise<{ status: number; text: string }>;
}

/** The same flow as `oci fn function invoke`: get the function's invoke endpoint, then invoke. */
function makeInvoker(emu: RunningEmulator, auth: SimpleAuthenticationDetailsProvider): Invoker {
  const management = new FunctionsManagementClient({ authenticationDetailsProvider: auth });
  management.endpoint = emu.url;
  const invokers = new Map<string, FunctionsInvokeClient>();
  const noRetry = { retryConfiguration: NoRetryConfigurationDetails };
  return {
    async invoke(functionId, body) {
      const { function: fn } = await management.getFunction({ functionId, ...noRetry });
      const endpoint = fn.invokeEndpoint;
      if (!endpoint) throw new Error(`function ${functionId} has no invokeEndpoint`);
      let client = invokers.get(endpoint);
      if (!client) {
        client = new FunctionsInvokeClient({ authenticationDetailsProvider: auth });
        client.endpoint = endpoint;
        invokers.set(endpoint, client);
      }
      const res = await client.invokeFunction({
        functionId,
        invokeFunctionBody: JSON.stringify(body),
        fnInvokeType: requests.InvokeFunctionRequest.FnInvokeType.Sync,
        ...noRetry,
      });
      const value = res.value;
      const stream = value instanceof Readable ? value : Readable.fromWeb(value as WebReadableStream);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
      return { status: 200, text: Buffer.concat(chunks).toString("utf8") };
    },
  };
}

interface PowerResponse {
  ok: boolean;
  action?: string;
  message?: string;
  summary?: Record<string, number>;
  results?: Array<{
    target_id: string;
    display_name?: string;
    outcome: string;
    state_before?: string;
    state_after?: string;
  }>;
  error?: { code: string; message: string };
}

function printResponse(name: string, elapsedMs: number, text: string): PowerResponse {
  const response = JSON.parse(text) as PowerResponse;
  const mark = response.ok ? "ok" : "NOT OK";
  console.log(
    `\n${name}: ${mark} in ${(elapsedMs / 1000).toFixed(1)} s — ${response.message ?? response.error?.message ?? ""}`,
  );
  for (const r of response.results ?? []) {
    console.log(
      `  ${(r.display_name ?? r.target_id).padEnd(22)} ${r.outcome.padEnd(11)} ${r.state_before ?? "?"} -> ${r.state_after ?? "?"}`,
    );
  }
  return response;
}

function printTimeline(instances: InstanceWithHistory[], t0: number, timeScale: number): void {
  console.log(`\nTimeline (seconds since the first invoke; emulator time scale ${timeScale}):`);
  for (const inst of instances) {
    const steps = inst.stateHistory
      .filter((h) => h.at >= t0 - 1)
      .map((h) => `${h.state}@${((h.at - t0) / 1000).toFixed(1)}`);
    const line = steps.length > 0 ? steps.join(" -> ") : `${inst.lifecycleState} (unchanged)`;
    console.log(`  ${inst.displayName.padEnd(32)} ${line}`);
  }
}

/**
 * The operator's API key: with a fixed `--port` and a key left in .local/ by an earlier run, that same
 * key (so the OCI and Fn CLI configs made then keep working); otherwise a new one.
 */
async function operatorKey(emu: RunningEmulator, port: number): Promise<GeneratedApiKey> {
  if (port === 0 || !existsSync(KEY_FILE)) return await emu.admin.generateApiKey({ userId: OPERATOR });
  const privateKeyPem = readFileSync(KEY_FILE, "utf8");
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: "spki", format: "pem" }).toString();
  const fingerprint = fingerprintOf(publicKeyPem);
  const keyId = `${emu.tenancyId}/${OPERATOR}/${fingerprint}`;
  await emu.admin.addApiKey({ keyId, publicKeyPem });
  return {
    keyId,
    tenancyId: emu.tenancyId,
    userId: OPERATOR,
    fingerprint,
    region: emu.region,
    publicKeyPem,
    privateKeyPem,
  };
}

/** The node pool's own timeline: its work requests and the size it went to and came back from. */
async function printNodePool(emu: RunningEmulator, t0: number): Promise<void> {
  const pool = await emu.admin.getNodePool(NODE_POOL);
  const at = (iso: unknown): string =>
    typeof iso === "string" ? ((Date.parse(iso) - t0) / 1000).toFixed(1) : "?";
  const names = (resources: unknown): boolean =>
    Array.isArray(resources) &&
    resources.some(
      (r: unknown) => typeof r === "object" && r !== null && "identifier" in r && r.identifier === NODE_POOL,
    );
  const requests = (await emu.admin.listWorkRequests())
    .filter((w) => names(w.resources))
    .map((w) => `${String(w.operationType)} ${w.status}@${at(w.timeAccepted)}..${at(w.timeFinished)}`);
  const states = pool.stateHistory
    .filter((h) => h.at >= t0 - 1)
    .map((h) => `${h.state}@${((h.at - t0) / 1000).toFixed(1)}`);
  console.log(
    `  ${pool.name.padEnd(32)} ${states.join(" -> ")}; work requests: ${requests.join(", ")}; ` +
      `now size ${pool.nodeConfigDetails.size}, ${pool.nodes.length} nodes, tags ${JSON.stringify(pool.freeformTags)}`,
  );
}

function writeCliConfig(emu: RunningEmulator, key: GeneratedApiKey): string {
  const dir = LOCAL_DIR;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = KEY_FILE;
  writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
  const configFile = join(dir, "oci-config");
  writeFileSync(configFile, ociConfigProfile(key, keyFile), { mode: 0o600 });
  writeFileSync(join(dir, "emulator-url"), `${emu.url}\n`);
  // The OCI CLI caches invoke endpoints beside its config for 15 minutes; a previous run's
  // emulator listened on another port.
  rmSync(join(dir, "functions-invoke-endpoint-cache.json"), { force: true });
  return configFile;
}

/** Paste-ready Fn CLI commands (the Fn CLI is the user's own: it is not in any package registry). */
function fnCliCommands(emulatorUrl: string, configFile: string, body: string): string {
  return `Use the Fn CLI (yours; it signs with the OCI config above, whose key_file is absolute):
  export OCI_CLI_CONFIG_FILE=${configFile}
  fn create context oci-local --provider oracle || true   # once; an existing context is fine
  fn use context oci-local
  fn update context api-url ${emulatorUrl}
  fn update context oracle.compartment-id ${OPS}
  fn update context oracle.profile DEFAULT
  fn update context registry localhost/oci-compute-power
  fn list apps
  fn list functions ${APP.name}
  echo '${body}' | fn invoke ${APP.name} start-compute
  echo '{"instance_id":"ocid1.instance.oc1.iad.aaaaaaaalocaltarget2","dry_run":true}' | fn invoke ${APP.name} stop-compute`;
}

function printKeepInstructions(emu: RunningEmulator, configFile: string): void {
  const cfg = relative(ROOT, configFile);
  const body = JSON.stringify({ compartment_id: FLEET, freeform_tags: SCHEDULE_TAGS });
  console.log(`
The local stack is running (Ctrl-C stops it). Emulator: ${emu.url}
Operator API key: ${cfg} (key file beside it; local only, .local/ is gitignored)

Invoke with the OCI CLI (npm test installs it in .tools/oci-cli):
  .tools/oci-cli/bin/oci --config-file ${cfg} --endpoint ${emu.url} \\
    fn function invoke --function-id ${STOP_FN} --file - --body '${body}'

Run the cron entry exactly as the management instance does, with this API key instead of the instance principal:
  OCI_BIN=.tools/oci-cli/bin/oci OCI_CLI_AUTH_ARGS="--config-file ${cfg} --endpoint ${emu.url}" \\
    scripts/schedule.sh --name local-start --function-id ${START_FN} --body '${body}' --log-dir .local/logs

Look at the instances (the admin API needs no signature; OCI paths do):
  curl -s ${emu.url}/_emulator/instances
  .tools/oci-cli/bin/oci --config-file ${cfg} --endpoint ${emu.url} compute instance list --compartment-id ${FLEET}
  curl -s ${emu.url}/_emulator/calls | head -c 2000

${fnCliCommands(emu.url, configFile, body)}
`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  buildIfStale();

  const emu = await startEmulator({
    port: options.port,
    timeScale: options.timeScale,
    state: {
      instances: sampleInstances(),
      applications: [
        { id: APP.id, compartmentId: OPS, displayName: APP.name, config: { ALLOWED_COMPARTMENT_IDS: FLEET } },
      ],
      // An OKE node pool on the same schedule: stopped to size 0 and started back to 3 via its tag.
      nodePools: [
        { id: NODE_POOL, compartmentId: FLEET, name: "oke-workers", size: 3, freeformTags: SCHEDULE_TAGS },
      ],
      functions: FUNCTIONS.map((name) => ({
        id: name === "start-compute" ? START_FN : STOP_FN,
        displayName: name,
        bundle: join(ROOT, name, "dist", "func.js"),
        timeoutInSeconds: 120,
        applicationId: APP.id,
      })),
    },
  });
  const shutdown = async (code: number) => {
    await emu.close();
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));

  const key = await operatorKey(emu, options.port);
  const auth = new SimpleAuthenticationDetailsProvider(
    key.tenancyId,
    key.userId,
    key.fingerprint,
    key.privateKeyPem,
    null,
    Region.fromRegionId(key.region),
  );
  const invoker = makeInvoker(emu, auth);
  console.log(
    `emulator on ${emu.url}: ${sampleInstances().length} instances, 1 OKE node pool, 2 functions (time scale ${options.timeScale})`,
  );

  const selection = { compartment_id: FLEET, freeform_tags: SCHEDULE_TAGS, kinds: ["instance", "node_pool"] };
  const t0 = Date.now();
  let allOk = true;
  for (const [name, fnId, body] of [
    ["stop-compute (evening schedule)", STOP_FN, { ...selection, action: "SOFTSTOP" }],
    ["start-compute (morning schedule)", START_FN, selection],
  ] as const) {
    const started = Date.now();
    const { text } = await invoker.invoke(fnId, body);
    allOk = printResponse(name, Date.now() - started, text).ok && allOk;
  }
  const instances = await Promise.all(sampleInstances().map((i) => emu.admin.getInstance(i.id)));
  printTimeline(instances, t0, options.timeScale);
  await printNodePool(emu, t0);
  const stats = await emu.admin.stats();
  console.log(`\nOCI calls made: ${stats.total} (${JSON.stringify(stats.byOperation)})`);

  if (options.keep) {
    printKeepInstructions(emu, writeCliConfig(emu, key));
    return; // the emulator keeps the process alive until a signal
  }
  await shutdown(allOk ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
