/**
 * The emulator's Applications API judged by Oracle's own client: the real OCI CLI (.tools/oci-cli,
 * installed by scripts/setup-tools.sh) lists applications and functions, finds a function by name,
 * and invokes the built start-compute bundle through it (also as a dry run, which must not run it).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator/src/index.js";
import { ociConfigProfile, startEmulator } from "../../emulator/src/index.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const OCI = join(ROOT, ".tools/oci-cli/bin/oci");
const OPS = "ocid1.compartment.oc1..aaaaaaaaappcliops";
const FLEET = "ocid1.compartment.oc1..aaaaaaaaappclifleet";
const APP = "ocid1.fnapp.oc1.iad.aaaaaaaaappclipower";
const SPARE_APP = "ocid1.fnapp.oc1.iad.aaaaaaaaappclispare";
const START_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaaappclistart";
const STOP_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaaappclistop";
const TARGET = "ocid1.instance.oc1.iad.aaaaaaaaappclitarget";

let emu: RunningEmulator;
let dir: string;
let authArgs: string[];

async function oci(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(OCI, [...authArgs, ...args], {
      env: {
        ...process.env,
        SUPPRESS_LABEL_WARNING: "True",
        OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING: "True",
      },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function ociData<T>(...args: string[]): Promise<T> {
  const res = await oci(...args);
  expect(res.code, `oci ${args.join(" ")}: ${res.stderr}`).toBe(0);
  return (JSON.parse(res.stdout) as { data: T }).data;
}

beforeAll(async () => {
  if (!existsSync(OCI))
    throw new Error(`${OCI} is missing: run scripts/setup-tools.sh (npm test runs it first)`);
  const bundle = (name: string) => {
    const path = join(ROOT, name, "dist/func.js");
    if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build`);
    return path;
  };
  emu = await startEmulator({
    timeScale: 0.01,
    state: {
      applications: [
        { id: APP, compartmentId: OPS, displayName: "power-app", config: { ALLOWED_COMPARTMENT_IDS: FLEET } },
        { id: SPARE_APP, compartmentId: OPS, displayName: "spare-app" },
      ],
      functions: [
        { id: START_FN, displayName: "start-compute", bundle: bundle("start-compute"), applicationId: APP },
        { id: STOP_FN, displayName: "stop-compute", bundle: bundle("stop-compute"), applicationId: APP },
      ],
      instances: [{ id: TARGET, compartmentId: FLEET, displayName: "target", lifecycleState: "STOPPED" }],
    },
  });
  const key = await emu.admin.generateApiKey({ userId: "ocid1.user.oc1..aaaaaaaaappcliuser" });
  dir = await mkdtemp(join(tmpdir(), "oci-fn-apps-"));
  const keyFile = join(dir, "key.pem");
  await writeFile(keyFile, key.privateKeyPem, { mode: 0o600 });
  const config = join(dir, "config");
  await writeFile(config, ociConfigProfile(key, keyFile), { mode: 0o600 });
  authArgs = ["--config-file", config, "--endpoint", emu.url];
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("oci fn application / function, against the emulator", () => {
  it("application list pages through every application of the compartment", async () => {
    const before = (await emu.admin.calls()).next;
    const apps = await ociData<Array<Record<string, unknown>>>(
      "fn",
      "application",
      "list",
      "--compartment-id",
      OPS,
      "--all",
      "--page-size",
      "1",
    );
    expect(apps.map((a) => [a.id, a["display-name"], a["lifecycle-state"]])).toEqual([
      [APP, "power-app", "ACTIVE"],
      [SPARE_APP, "spare-app", "ACTIVE"],
    ]);
    const lists = (await emu.admin.calls(before)).calls.filter((c) => c.operation === "ListApplications");
    expect(lists.map((c) => c.status)).toEqual([200, 200]);
  });

  it("application get shows the config its functions inherit", async () => {
    const app = await ociData<Record<string, unknown>>("fn", "application", "get", "--application-id", APP);
    expect(app).toMatchObject({ id: APP, "compartment-id": OPS, config: { ALLOWED_COMPARTMENT_IDS: FLEET } });
  });

  it("function list finds a function by name; invoke by its id starts the instance", async () => {
    const fns = await ociData<Array<Record<string, unknown>>>(
      "fn",
      "function",
      "list",
      "--application-id",
      APP,
      "--display-name",
      "start-compute",
    );
    expect(fns.map((f) => [f.id, f["application-id"], f["invoke-endpoint"]])).toEqual([
      [START_FN, APP, emu.url],
    ]);

    const dryOut = join(dir, "dry.json");
    const body = JSON.stringify({ instance_id: TARGET });
    const dry = await oci(
      "fn",
      "function",
      "invoke",
      "--function-id",
      START_FN,
      "--is-dry-run",
      "true",
      "--file",
      dryOut,
      "--body",
      body,
    );
    expect(dry.code, dry.stderr).toBe(0);
    // The CLI writes nothing for the dry run's empty answer.
    expect(existsSync(dryOut) ? await readFile(dryOut, "utf8") : "").toBe("");
    const invokes = (await emu.admin.calls()).calls.filter((c) => c.operation === "InvokeFunction");
    expect(invokes.map((c) => [c.functionId, c.status])).toEqual([[START_FN, 200]]);
    // Not run: the function's resource principal made no Compute call.
    expect((await emu.admin.calls()).calls.filter((c) => c.principal === START_FN)).toEqual([]);
    expect((await emu.admin.getInstance(TARGET)).lifecycleState).toBe("STOPPED");

    const out = join(dir, "start.json");
    const res = await oci(
      "fn",
      "function",
      "invoke",
      "--function-id",
      START_FN,
      "--file",
      out,
      "--body",
      body,
    );
    expect(res.code, res.stderr).toBe(0);
    const answer = JSON.parse(await readFile(out, "utf8")) as { ok: boolean; action: string };
    expect(answer).toMatchObject({ ok: true, action: "START" });
    const state = (await emu.admin.getInstance(TARGET)).lifecycleState;
    expect(["STARTING", "RUNNING"]).toContain(state);
  });

  it("an unknown application is 404 NotAuthorizedOrNotFound", async () => {
    const res = await oci(
      "fn",
      "function",
      "list",
      "--application-id",
      "ocid1.fnapp.oc1.iad.aaaaaaaanosuch",
      "--no-retry",
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("NotAuthorizedOrNotFound");
  });
});
