import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeTempDirs, runScript, startScript, tempDir, waitForFile, writeFakeOci } from "./helpers.js";

afterEach(removeTempDirs);

const FUNCTION_ID = "ocid1.fnfunc.oc1.phx.aaaaaaaaschedule";
const BODY =
  '{ "compartment_id": "ocid1.compartment.oc1..aaaa", "freeform_tags": {"power-schedule": "office-hours"} }';
/** The body as sent: compact, and naming its schedule for the function's metrics. */
const COMPACT_BODY =
  '{"compartment_id":"ocid1.compartment.oc1..aaaa","freeform_tags":{"power-schedule":"office-hours"},"schedule":"office-hours"}';
const LOG_KEYS = ["ts", "schedule", "function_id", "status", "exit_code", "oci_exit_code", "duration_ms"];

interface LogLine {
  ts: string;
  schedule: string;
  function_id: string;
  status: string;
  exit_code: number;
  oci_exit_code: number | null;
  duration_ms: number;
  response?: unknown;
  error?: string;
}

let dir: string;
let logDir: string;
let argsFile: string;
let ociBin: string;

beforeEach(() => {
  dir = tempDir("schedule-test");
  logDir = join(dir, "log");
  argsFile = join(dir, "oci-args.txt");
  ociBin = writeFakeOci(dir);
});

function schedule(
  extraArgs: string[] = [],
  env: Record<string, string | undefined> = {},
  name = "office-hours",
) {
  return runScript(
    "schedule.sh",
    ["--name", name, "--function-id", FUNCTION_ID, "--body", BODY, "--log-dir", logDir, ...extraArgs],
    { env: { OCI_BIN: ociBin, FAKE_OCI_ARGS_FILE: argsFile, ...env } },
  );
}

function logLines(name = "office-hours", suffix = ""): LogLine[] {
  const text = readFileSync(join(logDir, `${name}.log${suffix}`), "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line) as LogLine);
}

function recordedArgs(): string[] {
  return readFileSync(argsFile, "utf8").slice(0, -1).split("\n");
}

describe("schedule.sh", () => {
  it("invokes the function with the instance principal and logs one JSON line with the response", () => {
    const response = { ok: true, message: "2 started", summary: { requested: 2, changed: 2 } };
    const result = schedule([], { FAKE_OCI_RESPONSE: JSON.stringify(response) });

    expect(result.code).toBe(0);
    const args = recordedArgs();
    const fileIndex = args.indexOf("--file");
    expect(args.slice(0, fileIndex)).toEqual([
      "--auth",
      "instance_principal",
      "--read-timeout",
      "330",
      "fn",
      "function",
      "invoke",
      "--function-id",
      FUNCTION_ID,
    ]);
    expect(args.slice(fileIndex + 2)).toEqual(["--body", COMPACT_BODY]);

    const lines = logLines();
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(Object.keys(line ?? {})).toEqual([...LOG_KEYS, "response"]);
    expect(line).toMatchObject({
      schedule: "office-hours",
      function_id: FUNCTION_ID,
      status: "ok",
      exit_code: 0,
      oci_exit_code: 0,
      response,
    });
    expect(line?.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Number.isInteger(line?.duration_ms)).toBe(true);
  });

  it("keeps a schedule the body names itself", () => {
    const result = runScript(
      "schedule.sh",
      [
        "--name",
        "nightly",
        "--function-id",
        FUNCTION_ID,
        "--body",
        '{"instance_id":"x","schedule":"mine"}',
        "--log-dir",
        logDir,
      ],
      { env: { OCI_BIN: ociBin, FAKE_OCI_ARGS_FILE: argsFile, FAKE_OCI_RESPONSE: '{"ok":true}' } },
    );
    expect(result.code).toBe(0);
    expect(recordedArgs().at(-1)).toBe('{"instance_id":"x","schedule":"mine"}');
  });

  describe("holidays (--skip-dates, in --time-zone)", () => {
    // 2026-12-24T23:30:00Z: still the 24th in UTC, already the 25th in Europe/Paris.
    const NOW = String(Date.parse("2026-12-24T23:30:00Z") / 1000);

    it("on a listed date in the schedule's time zone: no invoke, a skipped_holiday line, exit 0", () => {
      const result = schedule(["--skip-dates", "2026-01-01,2026-12-25", "--time-zone", "Europe/Paris"], {
        SCHEDULE_NOW: NOW,
        FAKE_OCI_RESPONSE: '{"ok":true}',
      });
      expect(result.code).toBe(0);
      expect(existsSync(argsFile)).toBe(false);
      expect(result.stderr).toMatch(/2026-12-25 \(Europe\/Paris\) is in --skip-dates/);
      const [line] = logLines();
      expect(line).toMatchObject({
        status: "skipped_holiday",
        skipped: "holiday",
        exit_code: 0,
        oci_exit_code: null,
      });
      expect(Object.keys(line ?? {})).toEqual([...LOG_KEYS, "skipped"]);
    });

    it("the same instant is not a holiday in UTC: the run invokes as usual", () => {
      const result = schedule(["--skip-dates", "2026-12-25"], {
        SCHEDULE_NOW: NOW,
        FAKE_OCI_RESPONSE: '{"ok":true}',
      });
      expect(result.code).toBe(0);
      expect(existsSync(argsFile)).toBe(true);
      expect(logLines()[0]).toMatchObject({ status: "ok" });
    });
  });

  it("without a topic nothing is published, whatever the outcome", () => {
    const result = schedule([], { FAKE_OCI_RESPONSE: '{"ok":false,"message":"1 failed"}' });
    expect(result.code).toBe(4);
    expect(recordedArgs()).toContain("invoke");
    expect(recordedArgs()).not.toContain("publish");
  });

  it("appends one line per run", () => {
    for (let run = 1; run <= 3; run++) {
      expect(schedule([], { FAKE_OCI_RESPONSE: `{"ok":true,"message":"run ${run}"}` }).code).toBe(0);
    }
    expect(logLines().map((l) => (l.response as { message: string }).message)).toEqual([
      "run 1",
      "run 2",
      "run 3",
    ]);
  });

  it("replaces --auth instance_principal with OCI_CLI_AUTH_ARGS and passes extra arguments after --", () => {
    const result = schedule(["--", "--fn-invoke-type", "sync"], {
      FAKE_OCI_RESPONSE: '{"ok":true}',
      OCI_CLI_AUTH_ARGS: "--config-file /tmp/oci config --endpoint http://127.0.0.1:9",
    });

    expect(result.code).toBe(0);
    const args = recordedArgs();
    expect(args.slice(0, 10)).toEqual([
      "--config-file",
      "/tmp/oci",
      "config",
      "--endpoint",
      "http://127.0.0.1:9",
      "--read-timeout",
      "330",
      "fn",
      "function",
      "invoke",
    ]);
    expect(args).not.toContain("instance_principal");
    expect(args.slice(-2)).toEqual(["--fn-invoke-type", "sync"]);
  });

  it("exits 4 and logs function_failed when the function answers ok: false", () => {
    const response = { ok: false, message: "1 of 2 failed", summary: { requested: 2, failed: 1 } };
    const result = schedule([], { FAKE_OCI_RESPONSE: JSON.stringify(response) });

    expect(result.code).toBe(4);
    expect(result.stderr).toContain("1 of 2 failed");
    expect(logLines()).toEqual([
      expect.objectContaining({ status: "function_failed", exit_code: 4, oci_exit_code: 0, response }),
    ]);
  });

  it("exits 3 and logs the CLI's error when the invoke fails", () => {
    const result = schedule([], {
      FAKE_OCI_EXIT: "1",
      FAKE_OCI_STDERR: 'ServiceError: {"code": "NotAuthorizedOrNotFound", "status": 404}',
    });

    expect(result.code).toBe(3);
    expect(result.stderr).toContain("NotAuthorizedOrNotFound");
    const [line] = logLines();
    expect(line).toMatchObject({ status: "invoke_failed", exit_code: 3, oci_exit_code: 1 });
    expect(line?.error).toContain("NotAuthorizedOrNotFound");
    expect(Object.keys(line ?? {})).toEqual([...LOG_KEYS, "error"]);
  });

  it("kills a CLI that runs past --timeout, logs invoke_failed and releases the lock", () => {
    const result = schedule(["--timeout", "1", "--read-timeout", "45"], {
      FAKE_OCI_GATE: join(dir, "never-opened"),
      FAKE_OCI_RESPONSE: '{"ok":true}',
    });

    expect(result.code).toBe(3);
    expect(recordedArgs().slice(2, 4)).toEqual(["--read-timeout", "45"]);
    const [line] = logLines();
    expect(line).toMatchObject({ status: "invoke_failed", exit_code: 3, oci_exit_code: 124 });
    expect(line?.error).toContain("timed out after 1 s (--timeout)");
    expect(schedule([], { FAKE_OCI_RESPONSE: '{"ok":true}' }).code).toBe(0);
  });

  it("exits 3 and logs bad_response when the response is not a JSON object", () => {
    const result = schedule([], { FAKE_OCI_RESPONSE: "Exception in function" });

    expect(result.code).toBe(3);
    expect(logLines()).toEqual([
      expect.objectContaining({
        status: "bad_response",
        exit_code: 3,
        error: "the function's response is not a JSON object: Exception in function",
      }),
    ]);
  });

  it("never overlaps runs of one schedule: a second run while the first holds the lock exits 75", async () => {
    const gate = join(dir, "gate");
    const first = startScript(
      "schedule.sh",
      ["--name", "office-hours", "--function-id", FUNCTION_ID, "--body", BODY, "--log-dir", logDir],
      { env: { OCI_BIN: ociBin, FAKE_OCI_GATE: gate, FAKE_OCI_RESPONSE: '{"ok":true,"message":"first"}' } },
    );
    await waitForFile(`${gate}.started`);

    const second = schedule([], { FAKE_OCI_RESPONSE: '{"ok":true,"message":"second"}' });
    expect(second.code).toBe(75);
    expect(second.stderr).toContain("schedule 'office-hours' is already running");
    expect(existsSync(argsFile)).toBe(false); // the second run never called the CLI

    // Another schedule has its own lock and runs meanwhile.
    const other = schedule([], { FAKE_OCI_RESPONSE: '{"ok":true}' }, "other-schedule");
    expect(other.code).toBe(0);

    writeFileSync(gate, "");
    const firstResult = await first.done;
    expect(firstResult.code).toBe(0);

    expect(logLines().map((l) => [l.status, l.exit_code])).toEqual([
      ["skipped_locked", 75],
      ["ok", 0],
    ]);
    expect(logLines()[1]?.response).toEqual({ ok: true, message: "first" });

    // Lock released: the next run goes through.
    expect(schedule([], { FAKE_OCI_RESPONSE: '{"ok":true}' }).code).toBe(0);
  });

  it("rotates the log by size and keeps N files", () => {
    for (let run = 1; run <= 5; run++) {
      const result = schedule(["--max-bytes", "1", "--keep", "2"], {
        FAKE_OCI_RESPONSE: `{"ok":true,"message":"run ${run}"}`,
      });
      expect(result.code).toBe(0);
    }
    const files = readdirSync(logDir)
      .filter((f) => f.startsWith("office-hours.log"))
      .sort();
    expect(files).toEqual(["office-hours.log", "office-hours.log.1", "office-hours.log.2"]);
    const message = (suffix: string) =>
      logLines("office-hours", suffix).map((l) => (l.response as { message: string }).message);
    expect(message("")).toEqual(["run 5"]);
    expect(message(".1")).toEqual(["run 4"]);
    expect(message(".2")).toEqual(["run 3"]);
  });

  it("does not rotate below the size limit (env defaults apply)", () => {
    for (let run = 1; run <= 3; run++) {
      expect(schedule([], { FAKE_OCI_RESPONSE: '{"ok":true}', SCHEDULE_LOG_MAX_BYTES: "100000" }).code).toBe(
        0,
      );
    }
    expect(readdirSync(logDir).filter((f) => f.startsWith("office-hours.log"))).toEqual(["office-hours.log"]);
    expect(logLines()).toHaveLength(3);
  });

  it.each([
    [["--function-id", FUNCTION_ID, "--body", "{}"], "--name is required"],
    [
      ["--name", "Office Hours", "--function-id", FUNCTION_ID, "--body", "{}"],
      "--name 'Office Hours' is invalid",
    ],
    [["--name", "a", "--body", "{}"], "--function-id is required"],
    [["--name", "a", "--function-id", "ocid1.instance.oc1..x", "--body", "{}"], "is not a function OCID"],
    [["--name", "a", "--function-id", FUNCTION_ID], "--body is required"],
    [["--name", "a", "--function-id", FUNCTION_ID, "--body", "[1]"], "--body must be a JSON object"],
    [
      ["--name", "a", "--function-id", FUNCTION_ID, "--body", "{}", "--keep", "0"],
      "--keep must be a positive integer",
    ],
    [["--name", "a", "--function-id", FUNCTION_ID, "--body", "{}", "--bogus"], "unknown argument '--bogus'"],
    [
      ["--name", "a", "--function-id", FUNCTION_ID, "--body", "{}", "--topic-id", "ocid1.fnfunc.oc1..x"],
      "is not a Notifications topic OCID",
    ],
    [
      ["--name", "a", "--function-id", FUNCTION_ID, "--body", "{}", "--notify", "sometimes"],
      "--notify must be 'failures' or 'always'",
    ],
    [
      ["--name", "a", "--function-id", FUNCTION_ID, "--body", "{}", "--skip-dates", "2026-02-30"],
      "'2026-02-30' is not a date YYYY-MM-DD",
    ],
    [
      ["--name", "a", "--function-id", FUNCTION_ID, "--body", "{}", "--skip-dates", "25/12/2026"],
      "'25/12/2026' is not a date",
    ],
    [
      ["--name", "a", "--function-id", FUNCTION_ID, "--body", "{}", "--time-zone", "Mars/Olympus"],
      "is not a time zone of this system",
    ],
  ])("exits 2 on bad arguments %j", (args, message) => {
    const result = runScript("schedule.sh", [...args, "--log-dir", logDir], { env: { OCI_BIN: ociBin } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(existsSync(join(logDir, "a.log"))).toBe(false);
  });

  it("exits 2 naming the missing OCI CLI", () => {
    const result = schedule([], { OCI_BIN: join(dir, "no-such-oci") });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`OCI CLI '${join(dir, "no-such-oci")}' not found`);
  });

  it("prints its usage with --help", () => {
    const result = runScript("schedule.sh", ["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("schedule.sh --name <schedule> --function-id <ocid> --body '<json>'");
    expect(result.stdout).toContain("75 another run of this schedule holds the lock");
  });
});
