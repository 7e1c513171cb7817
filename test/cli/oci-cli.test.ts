/**
 * Proof with Oracle's own client: the real OCI CLI (installed from PyPI into .tools/oci-cli by
 * scripts/setup-tools.sh, which `npm test` runs first) against the local stack.
 *
 * - the exact cron line that scripts/crontab.sh generates (and Terraform installs) runs schedule.sh,
 *   which runs `oci fn function invoke`; only `--auth instance_principal` is swapped for an API-key
 *   config pointing at the emulator (OCI_CLI_AUTH_ARGS);
 * - `oci compute instance get | action | list` cross-check the emulator's Compute API.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey, InstanceJson, RunningEmulator } from "../../emulator/src/index.js";
import { ociConfigProfile, startEmulator } from "../../emulator/src/index.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const OCI = join(ROOT, ".tools/oci-cli/bin/oci");
const FLEET = "ocid1.compartment.oc1..aaaaaaaaclifleet";
const OTHER = "ocid1.compartment.oc1..aaaaaaaacliother";
const START_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaaclistart";
const STOP_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaaclistop";
const id = (name: string) => `ocid1.instance.oc1.iad.aaaaaaaacli${name}`;

let emu: RunningEmulator;
let dir: string;
let authArgs: string[];

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(cmd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      env: {
        ...process.env,
        SUPPRESS_LABEL_WARNING: "True",
        OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING: "True",
        ...env,
      },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function oci(...args: string[]): Promise<CliResult> {
  return sh(OCI, [...authArgs, ...args]);
}

async function ociJson<T>(...args: string[]): Promise<T> {
  const res = await oci(...args);
  expect(res.stderr + res.stdout, `oci ${args.join(" ")}`).not.toMatch(/ServiceError|Traceback/);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as T;
}

async function waitForState(instanceId: string, state: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const inst = await emu.admin.getInstance(instanceId);
    if (inst.lifecycleState === state) return;
    if (Date.now() > until) throw new Error(`${instanceId} still ${inst.lifecycleState}, expected ${state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function instance(name: string, fields: Partial<InstanceJson> = {}): Partial<InstanceJson> & { id: string } {
  return {
    id: id(name),
    compartmentId: FLEET,
    displayName: name,
    lifecycleState: "STOPPED",
    freeformTags: { Schedule: "office-hours" },
    ...fields,
  };
}

/** An OCI CLI config (and its key file) in the test's directory; `fingerprint` overrides the key's. */
async function writeCliConfig(
  name: string,
  key: GeneratedApiKey,
  fingerprint = key.fingerprint,
): Promise<string> {
  const keyFile = join(dir, `${name}-key.pem`);
  await writeFile(keyFile, key.privateKeyPem, { mode: 0o600 });
  const config = join(dir, `${name}-config`);
  await writeFile(config, ociConfigProfile(key, keyFile, { fingerprint }), { mode: 0o600 });
  return config;
}

beforeAll(async () => {
  if (!existsSync(OCI)) {
    throw new Error(`${OCI} is missing: run scripts/setup-tools.sh (npm test runs it first)`);
  }
  for (const fn of ["start-compute", "stop-compute"]) {
    if (!existsSync(join(ROOT, fn, "dist/func.js")))
      throw new Error(`${fn}/dist/func.js is missing: run npm run build`);
  }
  emu = await startEmulator({
    timeScale: 0.01,
    state: {
      instances: [
        instance("sched1"),
        instance("sched2"),
        instance("sched3", { lifecycleState: "RUNNING", freeformTags: {} }),
        instance("gone", { lifecycleState: "TERMINATED" }),
        instance("cross", { lifecycleState: "RUNNING" }),
        ...Array.from({ length: 7 }, (_, i) =>
          instance(`page${i}`, { compartmentId: OTHER, freeformTags: {} }),
        ),
      ],
      functions: [
        {
          id: START_FN,
          displayName: "start-compute",
          bundle: join(ROOT, "start-compute/dist/func.js"),
          timeoutInSeconds: 60,
        },
        {
          id: STOP_FN,
          displayName: "stop-compute",
          bundle: join(ROOT, "stop-compute/dist/func.js"),
          timeoutInSeconds: 60,
        },
      ],
    },
  });
  const key = await emu.admin.generateApiKey({ userId: "ocid1.user.oc1..aaaaaaaacliuser" });
  dir = await mkdtemp(join(tmpdir(), "oci-cli-"));
  authArgs = ["--config-file", await writeCliConfig("operator", key), "--endpoint", emu.url];
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the cron line, run with the real OCI CLI", () => {
  async function cronCommand(
    schedule: Schedule,
    logDir: string,
  ): Promise<{ env: Record<string, string>; command: string }> {
    const schedules = join(dir, `schedules-${Date.now()}.json`);
    await writeFile(schedules, JSON.stringify([schedule]));
    const gen = await sh("bash", [
      join(ROOT, "scripts/crontab.sh"),
      "--schedules",
      schedules,
      "--start-function-id",
      START_FN,
      "--stop-function-id",
      STOP_FN,
      "--compartment-id",
      FLEET,
      "--schedule-script",
      join(ROOT, "scripts/schedule.sh"),
      "--log-dir",
      logDir,
      "--oci-bin",
      OCI,
    ]);
    expect(gen.code, gen.stderr).toBe(0);
    const lines = gen.stdout.split("\n");
    const env: Record<string, string> = {};
    for (const line of lines) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined && m[1] !== "CRON_TZ") env[m[1]] = m[2];
    }
    const entry = lines.find((l) => /^[0-9*]/.test(l));
    expect(entry, gen.stdout).toBeDefined();
    // Five time fields, then the command cron hands to $SHELL; its output goes to syslog.
    const command = (entry ?? "").split(/\s+/).slice(5).join(" ");
    const suffix = " 2>&1 | logger -t oci-compute-power";
    expect(command.endsWith(suffix)).toBe(true);
    return { env, command: command.slice(0, -suffix.length).replaceAll("\\%", "%") };
  }

  interface Schedule {
    name: string;
    cron: string;
    time_zone: string;
    function: "start" | "stop";
    body: object;
  }

  /** Generates the crontab for one schedule, runs its command line as cron would, reads its log. */
  async function runCronLine(
    schedule: Schedule,
    ociAuthArgs: string,
  ): Promise<{ res: CliResult; env: Record<string, string>; log: unknown[] }> {
    const logDir = join(dir, `logs-${schedule.name}`);
    const { env, command } = await cronCommand(schedule, logDir);
    const res = await sh("bash", ["-c", command], { ...env, OCI_CLI_AUTH_ARGS: ociAuthArgs });
    const text = await readFile(join(logDir, `${schedule.name}.log`), "utf8");
    return {
      res,
      env,
      log: text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as unknown),
    };
  }

  it("starts the tagged instances and appends one ok line to the log", async () => {
    const { res, env, log } = await runCronLine(
      {
        name: "weekday-start",
        cron: "0 7 * * 1-5",
        time_zone: "Europe/Paris",
        function: "start",
        body: { freeform_tags: { Schedule: "office-hours" } },
      },
      authArgs.join(" "),
    );
    expect(env.OCI_BIN).toBe(OCI);
    expect(res.code, res.stderr).toBe(0);

    for (const name of ["sched1", "sched2"])
      expect((await emu.admin.getInstance(id(name))).lifecycleState).toBe("RUNNING");
    // Untagged and terminated instances are not selected, let alone touched.
    expect((await emu.admin.getInstance(id("gone"))).lifecycleState).toBe("TERMINATED");

    expect(log).toHaveLength(1);
    const line = log[0] as {
      schedule: string;
      status: string;
      exit_code: number;
      function_id: string;
      response: { ok: boolean; summary: Record<string, number>; action: string };
    };
    expect(line).toMatchObject({
      schedule: "weekday-start",
      status: "ok",
      exit_code: 0,
      function_id: START_FN,
    });
    expect(line.response.action).toBe("START");
    expect(line.response.ok).toBe(true);
    // sched1 and sched2 were STOPPED; the other tagged RUNNING instance ("cross") was already there.
    expect(line.response.summary).toMatchObject({ requested: 3, changed: 2, unchanged: 1, failed: 0 });

    const calls = (await emu.admin.calls()).calls;
    expect(
      calls.some((c) => c.operation === "InvokeFunction" && c.functionId === START_FN && c.status === 200),
    ).toBe(true);
  });

  it("exits non-zero and logs function_failed when the function answers ok: false", async () => {
    const { res, log } = await runCronLine(
      {
        name: "stop-gone",
        cron: "30 19 * * *",
        time_zone: "UTC",
        function: "stop",
        body: { instance_id: id("gone") },
      },
      authArgs.join(" "),
    );
    expect(res.code).toBe(4);
    expect(log).toHaveLength(1);
    const line = log[0] as {
      status: string;
      response: { ok: boolean; results: Array<{ outcome: string; error?: { code: string } }> };
    };
    expect(line.status).toBe("function_failed");
    expect(line.response.results[0]).toMatchObject({
      outcome: "failed",
      error: { code: "InstanceTerminated" },
    });
  });

  it("exits non-zero and logs invoke_failed when the CLI cannot authenticate", async () => {
    const key = await emu.admin.generateApiKey({ userId: "ocid1.user.oc1..aaaaaaaaclibad" });
    // A key the emulator does not know: same shape, different fingerprint.
    const badConfig = await writeCliConfig("unknown", key, "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff");
    const { res, log } = await runCronLine(
      {
        name: "bad-auth",
        cron: "0 7 * * *",
        time_zone: "UTC",
        function: "start",
        body: { instance_id: id("sched1") },
      },
      `--config-file ${badConfig} --endpoint ${emu.url} --no-retry`,
    );
    expect(res.code).toBe(3);
    expect(log).toHaveLength(1);
    const line = log[0] as { status: string; error?: string };
    expect(line.status).toBe("invoke_failed");
    expect(line.error ?? "").toMatch(/NotAuthenticated|401/);
    expect(res.stdout + res.stderr + (line.error ?? "")).not.toContain("PRIVATE KEY");
  });

  it("oci fn function invoke returns the function's structured InvalidParameter answer", async () => {
    const out = join(dir, "invalid.json");
    const res = await oci(
      "fn",
      "function",
      "invoke",
      "--function-id",
      START_FN,
      "--file",
      out,
      "--body",
      '{"instanceId":"x"}',
    );
    expect(res.code, res.stderr).toBe(0);
    const body = JSON.parse(await readFile(out, "utf8")) as {
      ok: boolean;
      error: { code: string; message: string };
    };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe("InvalidParameter");
    expect(body.error.message).toContain("instance_id");
  });
});

describe("the emulator's Compute API, cross-checked with the OCI CLI", () => {
  it("compute instance get returns the instance as stored", async () => {
    const { data } = await ociJson<{ data: Record<string, unknown> }>(
      "compute",
      "instance",
      "get",
      "--instance-id",
      id("sched3"),
    );
    const stored = await emu.admin.getInstance(id("sched3"));
    expect(data).toMatchObject({
      id: stored.id,
      "compartment-id": stored.compartmentId,
      "display-name": stored.displayName,
      "lifecycle-state": stored.lifecycleState,
      shape: stored.shape,
    });
  });

  it("compute instance action STOP then START drives the lifecycle, each action once", async () => {
    const target = id("sched3");
    const stop = await ociJson<{ data: { "lifecycle-state": string } }>(
      "compute",
      "instance",
      "action",
      "--action",
      "STOP",
      "--instance-id",
      target,
    );
    expect(stop.data["lifecycle-state"]).toBe("STOPPING");
    await waitForState(target, "STOPPED");
    const start = await ociJson<{ data: { "lifecycle-state": string } }>(
      "compute",
      "instance",
      "action",
      "--action",
      "START",
      "--instance-id",
      target,
    );
    expect(start.data["lifecycle-state"]).toBe("STARTING");
    await waitForState(target, "RUNNING");
    const actions = (await emu.admin.calls()).calls.filter(
      (c) => c.operation === "InstanceAction" && c.instanceId === target,
    );
    expect(actions.map((c) => [c.action, c.status, c.transition])).toEqual([
      ["STOP", 200, true],
      ["START", 200, true],
    ]);
  });

  it("an action that does not fit the state is a 409 IncorrectState from the CLI too", async () => {
    const res = await oci(
      "compute",
      "instance",
      "action",
      "--action",
      "STOP",
      "--instance-id",
      id("gone"),
      "--no-retry",
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/"status": 409|IncorrectState/);
  });

  it("an unknown instance is 404 NotAuthorizedOrNotFound", async () => {
    const res = await oci("compute", "instance", "get", "--instance-id", id("nosuch"), "--no-retry");
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("NotAuthorizedOrNotFound");
  });

  it("compute instance list pages through opc-next-page with --all", async () => {
    const before = (await emu.admin.calls()).next;
    const { data } = await ociJson<{ data: Array<{ id: string }> }>(
      "compute",
      "instance",
      "list",
      "--compartment-id",
      OTHER,
      "--page-size",
      "3",
      "--all",
    );
    expect(data.map((d) => d.id).sort()).toEqual(Array.from({ length: 7 }, (_, i) => id(`page${i}`)).sort());
    // 7 instances at 3 a page: the CLI followed opc-next-page twice.
    const lists = (await emu.admin.calls(before)).calls.filter((c) => c.operation === "ListInstances");
    expect(lists.map((c) => c.status)).toEqual([200, 200, 200]);
  });

  it("compute instance list filters by lifecycle state", async () => {
    const { data } = await ociJson<{ data: Array<{ "lifecycle-state": string }> }>(
      "compute",
      "instance",
      "list",
      "--compartment-id",
      FLEET,
      "--lifecycle-state",
      "TERMINATED",
      "--all",
    );
    expect(data.length).toBe(1);
    expect(data[0]?.["lifecycle-state"]).toBe("TERMINATED");
  });
});
