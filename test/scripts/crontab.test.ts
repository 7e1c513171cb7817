import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultSchedules } from "../terraform/hcl.js";
import { removeTempDirs, runScript, tempDir } from "./helpers.js";

afterEach(removeTempDirs);

const START_ID = "ocid1.fnfunc.oc1.eu-frankfurt-1.aaaaaaaastart";
const STOP_ID = "ocid1.fnfunc.oc1.eu-frankfurt-1.aaaaaaaastop";
const COMPARTMENT_ID = "ocid1.compartment.oc1..aaaaaaaatargets";
const IDS = ["--start-function-id", START_ID, "--stop-function-id", STOP_ID];

function generate(schedules: unknown, extraArgs: string[] = ["--compartment-id", COMPARTMENT_ID]) {
  return runScript("crontab.sh", ["--schedules", "-", ...IDS, ...extraArgs], {
    input: JSON.stringify(schedules),
  });
}

/** Splits a crontab entry into its 5 time fields and the command, as cron does. */
function splitEntry(line: string): { fields: string[]; command: string } {
  const match = /^(\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/.exec(line);
  if (!match) throw new Error(`not a crontab entry: ${line}`);
  return { fields: match.slice(1, 6), command: match[6] ?? "" };
}

/** What cron hands to the shell: an unescaped % ends the command (the rest is stdin), \% becomes %. */
function cronCommand(command: string): string {
  let out = "";
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === "\\" && command[i + 1] === "%") {
      out += "%";
      i++;
    } else if (c === "%") {
      break;
    } else {
      out += c;
    }
  }
  return out;
}

describe("crontab.sh", () => {
  it("renders the default schedules (terraform/schedules.tf) with CRON_TZ and schedule.sh calls", async () => {
    const result = generate(await defaultSchedules());

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        '# oci-compute-power: generated from the schedules list (Terraform variable "schedules" or scripts/crontab.sh).',
        "# Installed for the opc user by cloud-init; edits are overwritten on the next apply.",
        "SHELL=/bin/bash",
        "PATH=/usr/local/bin:/usr/bin:/bin",
        'MAILTO=""',
        "OCI_BIN=/opt/oci-cli/bin/oci",
        "",
        "# start-office-hours: start-compute at '0 7 * * 1-5' (UTC)",
        "CRON_TZ=UTC",
        `0 7 * * 1-5 /opt/oci-compute-power/schedule.sh --name start-office-hours --function-id ${START_ID} --body '{"compartment_id":"${COMPARTMENT_ID}","freeform_tags":{"power-schedule":"office-hours"}}' --log-dir /var/log/oci-compute-power 2>&1 | logger -t oci-compute-power`,
        "",
        "# stop-office-hours: stop-compute at '0 19 * * 1-5' (UTC)",
        "CRON_TZ=UTC",
        `0 19 * * 1-5 /opt/oci-compute-power/schedule.sh --name stop-office-hours --function-id ${STOP_ID} --body '{"action":"SOFTSTOP","compartment_id":"${COMPARTMENT_ID}","freeform_tags":{"power-schedule":"office-hours"}}' --log-dir /var/log/oci-compute-power 2>&1 | logger -t oci-compute-power`,
        "",
      ].join("\n"),
    );
  });

  it("sets CRON_TZ before every entry and keeps explicit targets as they are", () => {
    const result = generate([
      {
        name: "a",
        cron: "30 6 * * mon-fri",
        time_zone: "Europe/Paris",
        function: "start",
        body: { instance_id: "ocid1.instance.oc1..x" },
      },
      {
        name: "b",
        cron: "*/15  * * * *",
        time_zone: "America/New_York",
        function: "stop",
        body: { instance_ids: ["ocid1.instance.oc1..y"], wait: false },
      },
    ]);

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    const entries = lines.filter((l) => /^[^#A-Z\s]/.test(l));
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      const previous = lines[lines.indexOf(entry) - 1];
      expect(previous).toMatch(/^CRON_TZ=/);
    }
    expect(lines).toContain("CRON_TZ=Europe/Paris");
    expect(lines).toContain("CRON_TZ=America/New_York");
    expect(splitEntry(entries[0] ?? "").fields).toEqual(["30", "6", "*", "*", "mon-fri"]);
    expect(splitEntry(entries[1] ?? "").fields).toEqual(["*/15", "*", "*", "*", "*"]);
    expect(entries[0]).toContain(
      `--function-id ${START_ID} --body '{"instance_id":"ocid1.instance.oc1..x"}'`,
    );
    expect(entries[1]).toContain(
      `--function-id ${STOP_ID} --body '{"instance_ids":["ocid1.instance.oc1..y"],"wait":false}'`,
    );
  });

  it("quotes bodies so cron and the shell hand schedule.sh the exact JSON", () => {
    const dir = tempDir("crontab-quoting");
    const recorder = join(dir, "record.sh");
    const recorded = join(dir, "args.json");
    writeFileSync(
      recorder,
      `#!/usr/bin/env bash\nnode -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "$@" > ${recorded}\n`,
    );
    chmodSync(recorder, 0o755);
    const body = { compartment_id: COMPARTMENT_ID, freeform_tags: { team: "o'brien 100% <ops> & co" } };

    const result = generate(
      [{ name: "quoted", cron: "0 7 * * *", time_zone: "UTC", function: "start", body }],
      ["--schedule-script", recorder],
    );
    expect(result.code).toBe(0);
    const entry = result.stdout.split("\n").find((l) => l.startsWith("0 7 "));
    expect(entry).toBeDefined();
    // Run the entry's command the way cronie does, with logger replaced by cat.
    const command = cronCommand(splitEntry(entry ?? "").command).replace(
      "| logger -t oci-compute-power",
      "| cat",
    );
    const run = spawnSync("/bin/bash", ["-c", command], { encoding: "utf8" });
    expect(run.status).toBe(0);

    const args = JSON.parse(readFileSync(recorded, "utf8")) as string[];
    const bodyArg = args[args.indexOf("--body") + 1] ?? "";
    expect(JSON.parse(bodyArg)).toEqual(body);
    expect(args).toEqual([
      "--name",
      "quoted",
      "--function-id",
      START_ID,
      "--body",
      bodyArg,
      "--log-dir",
      "/var/log/oci-compute-power",
    ]);
  });

  it.each([
    [{ name: "Bad Name" }, 'name "Bad Name" is invalid'],
    [{ cron: "0 7 * *" }, 'cron "0 7 * *" must have 5 fields'],
    [{ cron: "0 7 * * * *" }, "must have 5 fields (minute hour day-of-month month day-of-week), found 6"],
    [{ cron: "60 7 * * *" }, 'minute field "60": values must be 0-59'],
    [{ cron: "0 24 * * *" }, 'hour field "24": values must be 0-23'],
    [{ cron: "0 7 0 * *" }, 'day-of-month field "0": values must be 1-31'],
    [{ cron: "0 7 * 13 *" }, 'month field "13": values must be 1-12'],
    [{ cron: "0 7 * * 8" }, 'day-of-week field "8": values must be 0-7'],
    [{ cron: "0 7 * * fri-mon" }, 'range "fri-mon" goes backwards'],
    [{ cron: "0 7 * * funday" }, '"funday" is not a number or name'],
    [{ cron: "@daily" }, "must have 5 fields"],
    [{ cron: "*/0 7 * * *" }, "step must be at least 1"],
    [{ time_zone: "Paris" }, 'time_zone "Paris" must be an IANA name'],
    [{ function: "restart" }, 'function "restart" must be "start" or "stop"'],
    [{ body: [] }, "body must be a JSON object"],
    [
      { topic_id: "ocid1.fnfunc.oc1..x" },
      'topic_id "ocid1.fnfunc.oc1..x" must be a Notifications topic OCID',
    ],
    [{ notify: "never" }, 'notify "never" must be "failures" or "always"'],
    [{ skip_dates: "2026-12-25" }, "skip_dates must be a list of dates YYYY-MM-DD"],
    [{ skip_dates: ["2026-12-25", "2026-02-30"] }, 'skip_dates: "2026-02-30" is not a date YYYY-MM-DD'],
    [{ skip_dates: ["25.12.2026"] }, 'skip_dates: "25.12.2026" is not a date YYYY-MM-DD'],
    [{ expected_gap_hours: 72 }, 'expected_gap_hours "72" must be a whole number of hours from 1 to 71'],
    [{ expected_gap_hours: 1.5 }, 'expected_gap_hours "1.5" must be a whole number'],
  ])("refuses %j with a clear message", (override, message) => {
    const schedule = {
      name: "ok",
      cron: "0 7 * * 1-5",
      time_zone: "UTC",
      function: "start",
      body: {},
      ...override,
    };
    const result = generate([schedule]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("schedule 0 (");
  });

  it("adds the alerts and holiday options only to the schedules that set them", () => {
    const base = { cron: "0 7 * * 1-5", time_zone: "Europe/Paris", function: "start", body: {} };
    const result = generate([
      { name: "plain", ...base, topic_id: null, notify: null, skip_dates: null, expected_gap_hours: null },
      {
        name: "alerted",
        ...base,
        topic_id: "ocid1.onstopic.oc1.eu-frankfurt-1.aaaaaaaatopic",
        notify: "always",
        skip_dates: ["2026-12-25", "2027-01-01"],
        expected_gap_hours: 72 - 1,
      },
      {
        name: "failures",
        ...base,
        topic_id: "ocid1.onstopic.oc1.eu-frankfurt-1.aaaaaaaatopic",
        notify: "failures",
      },
    ]);
    expect(result.stderr).toBe("");
    const commands = result.stdout
      .split("\n")
      .filter((l) => l.startsWith("0 7 "))
      .map((l) => splitEntry(l).command.replace(/ 2>&1 \| logger -t oci-compute-power$/, ""));
    expect(commands[0]?.endsWith("--log-dir /var/log/oci-compute-power")).toBe(true);
    expect(commands[1]).toMatch(
      / --log-dir \/var\/log\/oci-compute-power --topic-id ocid1\.onstopic\.oc1\.eu-frankfurt-1\.aaaaaaaatopic --notify always --time-zone Europe\/Paris --skip-dates 2026-12-25,2027-01-01$/,
    );
    expect(commands[2]).toMatch(/ --topic-id ocid1\.onstopic\.oc1\.eu-frankfurt-1\.aaaaaaaatopic$/);
  });

  it("refuses duplicate names", () => {
    const s = { name: "same", cron: "0 7 * * *", time_zone: "UTC", function: "start", body: {} };
    const result = generate([s, { ...s, function: "stop" }]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('schedule 1 (same): name "same" is used by more than one schedule');
  });

  it("needs a compartment when a body names no target", () => {
    const result = generate(
      [{ name: "x", cron: "0 7 * * *", time_zone: "UTC", function: "start", body: {} }],
      [],
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("pass --compartment-id");
  });

  it.each([
    [["--schedules", "-", "--stop-function-id", STOP_ID], "--start-function-id is required"],
    [
      ["--schedules", "-", "--start-function-id", "ocid1.instance.oc1..x", "--stop-function-id", STOP_ID],
      "is not a function OCID",
    ],
    [["--start-function-id", START_ID, "--stop-function-id", STOP_ID], "--schedules is required"],
    [["--schedules", "/no/such/file", ...IDS], "cannot read schedules file"],
  ])("refuses bad arguments %j", (args, message) => {
    const result = runScript("crontab.sh", args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("refuses schedules that are not a JSON array", () => {
    const result = runScript("crontab.sh", ["--schedules", "-", ...IDS], { input: '{"name": "x"}' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the schedules must be a JSON array");
  });

  it("prints its usage with --help", () => {
    const result = runScript("crontab.sh", ["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "crontab.sh --schedules FILE|- --start-function-id OCID --stop-function-id OCID",
    );
  });
});
