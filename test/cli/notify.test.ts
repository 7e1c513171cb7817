/**
 * schedule.sh's notifications and holidays with Oracle's own client: the real OCI CLI (.tools/oci-cli)
 * invokes the built bundles through the emulator and publishes with `oci ons message publish` to the
 * emulator's Notifications API, whose message log shows exactly what the operator's e-mail would say.
 * Only `--auth instance_principal` is swapped for an API-key config pointing at the emulator
 * (OCI_CLI_AUTH_ARGS), as in oci-cli.test.ts.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AlertsAdmin,
  type InstanceJson,
  ociConfigProfile,
  type PublishedMessage,
  type RunningEmulator,
  startEmulator,
} from "../../emulator/src/index.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const OCI = join(ROOT, ".tools/oci-cli/bin/oci");
const SCHEDULE = join(ROOT, "scripts/schedule.sh");
const FLEET = "ocid1.compartment.oc1..aaaaaaaanotifyfleet";
const TOPIC = "ocid1.onstopic.oc1.iad.aaaaaaaanotifytopic";
const START_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaanotifystart";
const STOP_FN = "ocid1.fnfunc.oc1.iad.aaaaaaaanotifystop";
const MANY = 300;
const id = (name: string) => `ocid1.instance.oc1.iad.aaaaaaaanotify${name}`;

let emu: RunningEmulator;
let alerts: AlertsAdmin;
let dir: string;
let authArgs: string;

interface Run {
  code: number;
  stderr: string;
  log: Array<Record<string, unknown>>;
  messages: PublishedMessage[];
}

/** Runs schedule.sh as cron would (real CLI), then reads its log and the messages published meanwhile. */
async function schedule(name: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const logDir = join(dir, "logs");
  const { next } = await alerts.messages();
  let code = 0;
  let stderr = "";
  try {
    ({ stderr } = await run("bash", [SCHEDULE, "--name", name, "--log-dir", logDir, ...args], {
      env: {
        ...process.env,
        OCI_BIN: OCI,
        OCI_CLI_AUTH_ARGS: authArgs,
        SUPPRESS_LABEL_WARNING: "True",
        OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING: "True",
        ...env,
      },
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    code = typeof e.code === "number" ? e.code : -1;
    stderr = e.stderr ?? "";
  }
  const text = await readFile(join(logDir, `${name}.log`), "utf8");
  const log = text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, stderr, log, messages: (await alerts.messages(next)).messages };
}

const instance = (name: string, fields: Partial<InstanceJson> = {}): Partial<InstanceJson> => ({
  id: id(name),
  compartmentId: FLEET,
  displayName: name,
  lifecycleState: "STOPPED",
  ...fields,
});

beforeAll(async () => {
  if (!existsSync(OCI))
    throw new Error(`${OCI} is missing: run scripts/setup-tools.sh (npm test runs it first)`);
  for (const fn of ["start-compute", "stop-compute"]) {
    if (!existsSync(join(ROOT, fn, "dist/func.js")))
      throw new Error(`${fn}/dist/func.js is missing: run npm run build`);
  }
  emu = await startEmulator({
    timeScale: 0.01,
    state: {
      topics: [{ id: TOPIC, compartmentId: FLEET, name: "alerts" }],
      instances: [
        instance("web1"),
        instance("gone", { lifecycleState: "TERMINATED" }),
        // Terminated, with the longest display names OCI allows: their failures overflow 64 KB.
        ...Array.from({ length: MANY }, (_, i) =>
          instance(`many${i}`, { lifecycleState: "TERMINATED", displayName: `many-${i}-${"x".repeat(240)}` }),
        ),
      ],
      functions: [
        {
          id: START_FN,
          displayName: "start-compute",
          bundle: join(ROOT, "start-compute/dist/func.js"),
          timeoutInSeconds: 120,
        },
        {
          id: STOP_FN,
          displayName: "stop-compute",
          bundle: join(ROOT, "stop-compute/dist/func.js"),
          timeoutInSeconds: 120,
        },
      ],
    },
  });
  alerts = new AlertsAdmin(emu.url);
  const key = await emu.admin.generateApiKey({ userId: "ocid1.user.oc1..aaaaaaaanotifyuser" });
  dir = await mkdtemp(join(tmpdir(), "notify-cli-"));
  const keyFile = join(dir, "key.pem");
  await writeFile(keyFile, key.privateKeyPem, { mode: 0o600 });
  const config = join(dir, "config");
  await writeFile(config, ociConfigProfile(key, keyFile), { mode: 0o600 });
  authArgs = `--config-file ${config} --endpoint ${emu.url}`;
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await alerts.setNotificationFault(undefined);
});

describe("schedule.sh publishes with the real OCI CLI (oci ons message publish)", () => {
  it("ok: false (exit 4): the title names the schedule and what happened; the body is the run's line and the failure", async () => {
    const r = await schedule("stop-gone", [
      "--function-id",
      STOP_FN,
      "--body",
      JSON.stringify({ instance_id: id("gone") }),
      "--topic-id",
      TOPIC,
    ]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.messages).toHaveLength(1);
    const [m] = r.messages;
    expect(m?.topicId).toBe(TOPIC);
    expect(m?.title).toMatch(
      /^oci-compute-power: stop-gone FAILED: SOFTSTOP: 1 requested: 1 failed \(InstanceTerminated\) \(exit 4\)$/,
    );
    const [head = "", blank, count, failed, ...rest] = (m?.body ?? "").split("\n");
    const runLine = JSON.parse(head) as Record<string, unknown> & { response: Record<string, unknown> };
    expect(runLine).toMatchObject({
      schedule: "stop-gone",
      status: "function_failed",
      exit_code: 4,
      function_id: STOP_FN,
    });
    expect(runLine.response).toMatchObject({ ok: false, summary: { failed: 1 } });
    expect(runLine.response).not.toHaveProperty("results");
    expect([blank, count]).toEqual(["", "Failed instances: 1"]);
    expect(JSON.parse(failed ?? "")).toEqual({
      id: id("gone"),
      name: "gone",
      code: "InstanceTerminated",
      message: expect.stringContaining("TERMINATED"),
    });
    expect(rest).toEqual([]);
    // The log line is the one published (results aside); the request named its schedule.
    expect(r.log).toHaveLength(1);
    const calls = (await emu.admin.calls()).calls;
    expect(calls.some((c) => c.operation === "PublishMessage" && c.status === 200)).toBe(true);
  }, 180_000);

  it(`trims ${MANY} failures to ONS's 64 KB limit and says how many were left out`, async () => {
    const ids = Array.from({ length: MANY }, (_, i) => id(`many${i}`));
    const r = await schedule("stop-many", [
      "--function-id",
      STOP_FN,
      "--body",
      JSON.stringify({ instance_ids: ids }),
      "--topic-id",
      TOPIC,
    ]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0] as PublishedMessage;
    expect(m.bytes).toBeLessThanOrEqual(64 * 1024);
    const lines = m.body.split("\n");
    expect(lines[2]).toBe(`Failed instances: ${MANY}`);
    const shown = lines.slice(3, -1).map((l) => JSON.parse(l) as { id: string; code: string });
    const note = lines.at(-1) ?? "";
    const left = Number(
      /^\.\.\. (\d+) more failed instances left out to fit the 64 KB message limit$/.exec(note)?.[1],
    );
    expect(shown.length).toBeGreaterThan(50);
    expect(shown.length + left).toBe(MANY);
    expect(new Set(shown.map((s) => s.id)).size).toBe(shown.length);
    expect(shown.every((s) => ids.includes(s.id) && s.code === "InstanceTerminated")).toBe(true);
  }, 180_000);

  it("the invoke failed (exit 3): reported, since the function itself never could", async () => {
    const r = await schedule("start-nofn", [
      "--function-id",
      "ocid1.fnfunc.oc1.iad.aaaaaaaanosuchfunction",
      "--body",
      JSON.stringify({ instance_id: id("web1") }),
      "--topic-id",
      TOPIC,
      "--",
      "--no-retry",
    ]);
    expect(r.code).toBe(3);
    expect(r.messages.map((m) => m.title)).toEqual([
      "oci-compute-power: start-nofn FAILED: the function could not be invoked (exit 3)",
    ]);
    expect(JSON.parse(r.messages[0]?.body ?? "")).toMatchObject({
      status: "invoke_failed",
      error: expect.stringMatching(/404|NotAuthorizedOrNotFound/),
    });
  }, 180_000);

  it("locked out (exit 75): reported without invoking", async () => {
    const logDir = join(dir, "logs");
    await run("mkdir", ["-p", logDir]);
    const holder: ChildProcess = spawn("flock", [join(logDir, "start-locked.lock"), "sleep", "30"], {
      stdio: "ignore",
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await schedule("start-locked", [
        "--function-id",
        START_FN,
        "--body",
        JSON.stringify({ instance_id: id("web1") }),
        "--topic-id",
        TOPIC,
      ]);
      expect(r.code).toBe(75);
      expect(r.messages.map((m) => m.title)).toEqual([
        "oci-compute-power: start-locked did not run: the previous run still holds the lock (exit 75)",
      ]);
    } finally {
      holder.kill();
    }
  }, 180_000);

  it("success is silent by default and a digest with --notify always (NOTIFY_TOPIC_ID)", async () => {
    const body = JSON.stringify({ instance_id: id("web1") });
    const quiet = await schedule("start-web", ["--function-id", START_FN, "--body", body], {
      NOTIFY_TOPIC_ID: TOPIC,
    });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.messages).toEqual([]);
    const digest = await schedule(
      "start-web",
      ["--function-id", START_FN, "--body", body, "--notify", "always"],
      {
        NOTIFY_TOPIC_ID: TOPIC,
      },
    );
    expect(digest.code, digest.stderr).toBe(0);
    expect(digest.messages.map((m) => m.title)).toEqual([
      "oci-compute-power: start-web ok: START: 1 requested: 1 unchanged",
    ]);
    expect(JSON.parse(digest.messages[0]?.body ?? "")).toMatchObject({ status: "ok", exit_code: 0 });
  }, 180_000);

  it("a failed publish is logged and never changes the exit code", async () => {
    await alerts.setNotificationFault({ status: 404 });
    const r = await schedule("stop-gone-nopub", [
      "--function-id",
      STOP_FN,
      "--body",
      JSON.stringify({ instance_id: id("gone") }),
      "--topic-id",
      TOPIC,
    ]);
    expect(r.code).toBe(4);
    expect(r.messages).toEqual([]);
    expect(r.stderr).toMatch(
      /publishing to topic ocid1\.onstopic\.oc1\.iad\.aaaaaaaanotifytopic failed \(OCI CLI exit code \d+\)/,
    );
    expect(r.log.map((l) => l.status)).toEqual(["function_failed", "notify_failed"]);
    expect(r.log[1]).toMatchObject({
      schedule: "stop-gone-nopub",
      topic_id: TOPIC,
      error: expect.stringMatching(/404|NotAuthorizedOrNotFound/),
    });

    const ok = await schedule("start-web-nopub", [
      "--function-id",
      START_FN,
      "--body",
      JSON.stringify({ instance_id: id("web1") }),
      "--topic-id",
      TOPIC,
      "--notify",
      "always",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.log.map((l) => l.status)).toEqual(["ok", "notify_failed"]);
  }, 180_000);

  it("on a holiday nothing is invoked, the run exits 0 and a digest says why", async () => {
    const before = (await emu.admin.calls()).next;
    const r = await schedule(
      "start-holiday",
      [
        "--function-id",
        START_FN,
        "--body",
        JSON.stringify({ instance_id: id("web1") }),
        "--topic-id",
        TOPIC,
        "--notify",
        "always",
        "--time-zone",
        "Europe/Paris",
        "--skip-dates",
        "2026-12-25",
      ],
      { SCHEDULE_NOW: String(Date.parse("2026-12-25T08:00:00+01:00") / 1000) },
    );
    expect(r.code).toBe(0);
    expect(r.log).toEqual([
      expect.objectContaining({ status: "skipped_holiday", skipped: "holiday", exit_code: 0 }),
    ]);
    expect(r.messages.map((m) => m.title)).toEqual([
      "oci-compute-power: start-holiday skipped: 2026-12-25 is a holiday (--skip-dates), nothing was invoked",
    ]);
    const calls = (await emu.admin.calls(before)).calls;
    expect(calls.filter((c) => c.operation === "InvokeFunction")).toEqual([]);
  }, 180_000);
});
