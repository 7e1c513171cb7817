/**
 * scripts/override.sh with the real OCI CLI (.tools/oci-cli, installed by scripts/setup-tools.sh)
 * against the emulator: it merges the override into the instance's freeform tags (other tags
 * survive), refuses to write when the instance changed between its read and its write (etag), and
 * what it writes is exactly what the functions' parser (src/override.ts) accepts.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ociConfigProfile, type RunningEmulator, startEmulator } from "../../emulator/src/index.js";
import { decideOverride, readOverrideConfig } from "../../src/override.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const OCI = join(ROOT, ".tools/oci-cli/bin/oci");
const SCRIPT = join(ROOT, "scripts/override.sh");
const FLEET = "ocid1.compartment.oc1..aaaaaaaaoverridefleet";
const VM = "ocid1.instance.oc1.iad.aaaaaaaaoverridevm";
const TAGS = { Schedule: "office-hours", owner: "ana", "cost-center": "42" };
// A fixed zone with a half-hour offset and no daylight saving: the written offset is predictable.
const TZ = "Asia/Kolkata";

let emu: RunningEmulator;
let dir: string;
let auth: string[];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function override(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run("bash", [SCRIPT, ...args, ...auth], {
      env: {
        ...process.env,
        OCI_BIN: OCI,
        TZ,
        OCI_CLI_AUTH_ARGS: "",
        OVERRIDE_TAG_KEY: "",
        OVERRIDE_MAX_DAYS: "",
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

async function tags(): Promise<Record<string, string>> {
  return (await emu.admin.getInstance(VM)).freeformTags;
}

async function updateCalls(): Promise<number[]> {
  const { calls } = await emu.admin.calls();
  return calls.filter((c) => c.operation === "UpdateInstance").map((c) => c.status);
}

/** An RFC 3339 time `hours` from now, in UTC with a Z. */
const inHours = (hours: number) =>
  new Date(Date.now() + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");

beforeAll(async () => {
  if (!existsSync(OCI))
    throw new Error(`${OCI} is missing: run scripts/setup-tools.sh (npm test runs it first)`);
  emu = await startEmulator({ state: { instances: [{ id: VM, compartmentId: FLEET, freeformTags: TAGS }] } });
  dir = await mkdtemp(join(tmpdir(), "override-"));
  // DEFAULT may see another compartment only; the profile "ops" may see the fleet: --profile must pass through.
  const other = await emu.admin.generateApiKey({
    compartments: ["ocid1.compartment.oc1..aaaaaaaaelsewhere"],
  });
  const ops = await emu.admin.generateApiKey({ compartments: [FLEET] });
  await writeFile(join(dir, "other.pem"), other.privateKeyPem, { mode: 0o600 });
  await writeFile(join(dir, "ops.pem"), ops.privateKeyPem, { mode: 0o600 });
  const config = join(dir, "config");
  await writeFile(
    config,
    ociConfigProfile(other, join(dir, "other.pem")) +
      ociConfigProfile(ops, join(dir, "ops.pem"), { profile: "ops" }),
    { mode: 0o600 },
  );
  auth = ["--config-file", config, "--profile", "ops", "--endpoint", emu.url];
}, 60_000);

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await emu.admin.setFaults({});
  await emu.admin.patchInstance(VM, { freeformTags: TAGS });
  await emu.admin.clearCalls();
});

// Each OCI CLI run starts Python (seconds on a loaded machine): generous per-test time.
describe("override.sh with the real OCI CLI", { timeout: 300_000 }, () => {
  it("keep-running-until HH:MM: local time -> RFC 3339 with the offset; other tags kept; stop-compute would skip", async () => {
    const res = await override("keep-running-until", "22:00", "--instance-id", VM);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const t = await tags();
    expect(t["power-override"]).toMatch(/^keep-running-until=\d{4}-\d{2}-\d{2}T22:00:00\+05:30$/);
    expect(res.stdout).toBe(`set power-override=${t["power-override"]} on ${VM} (3 other tags kept)\n`);
    expect(t).toMatchObject(TAGS);
    const until = Date.parse((t["power-override"] ?? "").split("=")[1] ?? "");
    expect(until).toBeGreaterThan(Date.now());
    expect(until - Date.now()).toBeLessThanOrEqual(86_400_000);
    const decision = decideOverride(
      { freeformTags: t, definedTags: {} },
      "stop",
      Date.now(),
      readOverrideConfig({}),
    );
    expect(decision).toMatchObject({
      kind: "skip",
      reason: expect.stringMatching(/^skipped: keep-running-until /),
    });
    expect(await updateCalls()).toEqual([200]);
  });

  it("keep-stopped-until accepts 'YYYY-MM-DD HH:MM' and a full RFC 3339 time; start-compute would skip", async () => {
    const tomorrow = new Date(Date.now() + 86_400_000 + 19_800_000).toISOString().slice(0, 10);
    expect((await override("keep-stopped-until", `${tomorrow} 08:30`, "--instance-id", VM)).code).toBe(0);
    expect((await tags())["power-override"]).toBe(`keep-stopped-until=${tomorrow}T08:30:00+05:30`);
    const exact = inHours(5);
    expect((await override("keep-stopped-until", exact, "--instance-id", VM)).code).toBe(0);
    const t = await tags();
    expect(Date.parse((t["power-override"] ?? "").split("=")[1] ?? "")).toBe(Date.parse(exact));
    expect(
      decideOverride({ freeformTags: t, definedTags: {} }, "start", Date.now(), readOverrideConfig({})),
    ).toMatchObject({
      kind: "skip",
    });
  });

  it("skip, then show; setting it again writes nothing", async () => {
    expect((await override("skip", "--instance-id", VM)).code).toBe(0);
    expect(await tags()).toEqual({ ...TAGS, "power-override": "skip" });
    const shown = await override("show", "--instance-id", VM);
    expect(shown).toMatchObject({ code: 0, stdout: "power-override=skip\n" });
    const again = await override("skip", "--instance-id", VM);
    expect(again).toMatchObject({ code: 0, stdout: `power-override=skip is already set on ${VM}\n` });
    expect(await updateCalls()).toEqual([200]);
  });

  it("clear removes only the override; clearing again writes nothing", async () => {
    await emu.admin.patchInstance(VM, { freeformTags: { ...TAGS, "power-override": "skip" } });
    const cleared = await override("clear", "--instance-id", VM);
    expect(cleared).toMatchObject({
      code: 0,
      stdout: `cleared power-override on ${VM} (was skip; 3 other tags kept)\n`,
    });
    expect(await tags()).toEqual(TAGS);
    expect(await override("clear", "--instance-id", VM)).toMatchObject({
      code: 0,
      stdout: `no override on ${VM}: nothing to clear\n`,
    });
    expect(await override("show", "--instance-id", VM)).toMatchObject({
      code: 0,
      stdout: `no override on ${VM} (power-override is not set)\n`,
    });
    expect(await updateCalls()).toEqual([200]);
  });

  it("refuses to write when the instance changed between read and write (etag), and says so", async () => {
    await emu.admin.setFaults({ concurrentUpdate: { instanceIds: [VM] } });
    const res = await override("skip", "--instance-id", VM);
    expect(res.code).toBe(4);
    expect(res.stderr).toContain(
      `instance ${VM} changed between read and write (etag mismatch): nothing was written`,
    );
    expect(await updateCalls()).toEqual([412]);
    expect(await tags()).toEqual({ ...TAGS, "emulator-concurrent-update": "1" });
  });

  it("--tag-key writes another key; a look-alike key is warned about", async () => {
    await emu.admin.patchInstance(VM, { freeformTags: { ...TAGS, "Power-Override": "skip" } });
    const res = await override("show", "--instance-id", VM);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/warning: tag 'Power-Override' looks like the override key 'power-override'/);
    expect((await override("skip", "--instance-id", VM, "--tag-key", "hold")).code).toBe(0);
    expect((await tags()).hold).toBe("skip");
  });

  it("a failed read says what failed and shows the CLI's message (exit 3)", async () => {
    const missing = "ocid1.instance.oc1.iad.aaaaaaaaoverridemissing";
    const res = await override("skip", "--instance-id", missing);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`override.sh: reading instance ${missing} failed:`);
    expect(res.stderr).toContain("NotAuthorizedOrNotFound");
  });

  it.each([
    [["keep-running-until", "25:00"], /'25:00' is not a time: use HH:MM/],
    [["keep-running-until", "tomorrow"], /'tomorrow' is not a time/],
    [["keep-running-until", "2026-02-30 10:00"], /not a valid date and time|not in the future/],
    [["keep-running-until", "2001-01-01T00:00:00Z"], /is not in the future/],
    [
      ["keep-stopped-until", "2099-01-01T00:00:00Z"],
      /more than 31 days ahead; the functions would refuse it/,
    ],
    [["keep-running-until"], /keep-running-until needs a time, e.g. keep-running-until 22:00/],
    [["skip", "22:00"], /skip takes no time/],
    [["pause"], /unknown command 'pause'/],
    [[], /a command is required/],
  ])("refuses %j with exit 2 before calling OCI", async (args, pattern) => {
    const res = await override(...args, "--instance-id", VM);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(pattern);
    const { calls } = await emu.admin.calls();
    expect(calls).toEqual([]);
  });

  it("refuses a bad --instance-id, --max-days or --tag-key, and explains itself with --help", async () => {
    expect((await override("skip", "--instance-id", "ocid1.volume.oc1..x")).stderr).toMatch(
      /--instance-id must be an instance OCID/,
    );
    expect((await override("skip")).stderr).toMatch(/--instance-id is required/);
    expect((await override("skip", "--instance-id", VM, "--max-days", "0")).code).toBe(2);
    expect((await override("skip", "--instance-id", VM, "--tag-key", "a b")).code).toBe(2);
    const help = await override("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^override\.sh: sets, shows or clears the power override/);
    expect(help.stdout).toContain("Exit codes:");
  });
});
