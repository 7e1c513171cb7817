/**
 * The emulator dies (SIGKILL) in the middle of a batch and comes back on the same port from its
 * state file: the function answers before its deadline with every instance accounted for, nothing
 * reported done that is not, and no crash.
 *
 * The emulator keeps its state in memory; to model one that persists it, the test writes the
 * emulator's own snapshot to the state file just before the kill. Its token-signing key is not part
 * of the state, so a resource principal minted before the restart is no longer accepted after it:
 * that case must come out as a clear AuthenticationFailed. With an API key (config-file auth), which
 * the state file does carry, the batch can finish after the restart.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FnProcess } from "../../emulator/src/fn-agent.js";
import { EmulatorAdmin, type EmulatorState } from "../../emulator/src/index.js";
import type { PowerResponse } from "../../src/response.js";
import { BUNDLES, requireBuiltBundles } from "../helpers/integration.js";
import { accountingProblems } from "./harness.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(root, "emulator/src/cli.ts");
const DEV = "ocid1.compartment.oc1..restart";
const TENANCY = "ocid1.tenancy.oc1..emulatortenancy";
/** START takes 30 s × 0.05 = 1.5 s: the kill lands while instances are starting. */
const TIME_SCALE = "0.05";
const BATCH = 40;

const started: { kill: () => void }[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) s.kill();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs the emulator CLI as its own process (node + tsx, so the pid is the server itself). */
async function spawnEmulator(port: number, stateFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CLI, "--port", String(port), "--state", stateFile, "--time-scale", TIME_SCALE],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  started.push({ kill: () => child.kill("SIGKILL") });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`emulator exited with ${code} before listening`)));
  });
  const info = JSON.parse(first) as { url: string; port: number };
  expect(info.port).toBe(port);
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

interface Scenario {
  admin: EmulatorAdmin;
  ids: string[];
  stateFile: string;
  port: number;
  child: ChildProcess;
}

async function scenario(apiKeys: EmulatorState["apiKeys"] = []): Promise<Scenario> {
  requireBuiltBundles();
  const dir = mkdtempSync(join(tmpdir(), "rel-restart-"));
  const stateFile = join(dir, "state.json");
  const ids = Array.from({ length: BATCH }, (_, i) => `ocid1.instance.oc1.iad.restart${i}`);
  const state: EmulatorState = {
    tenancyId: TENANCY,
    instances: ids.map((id) => ({ id, compartmentId: DEV, lifecycleState: "STOPPED" })),
    ...(apiKeys ? { apiKeys } : {}),
  };
  writeFileSync(stateFile, JSON.stringify(state));
  const port = await freePort();
  const child = await spawnEmulator(port, stateFile);
  return { admin: new EmulatorAdmin(`http://127.0.0.1:${port}`), ids, stateFile, port, child };
}

/**
 * Starts the batch, waits until some STARTs took effect, persists the emulator's snapshot, kills it,
 * keeps it down for a moment and restarts it from the snapshot. Returns the answer and the new admin.
 */
async function batchAcrossRestart(
  s: Scenario,
  fn: FnProcess,
  budgetMs: number,
): Promise<{ body: PowerResponse; answeredAt: number; deadline: Date; transitionedBefore: Set<string> }> {
  const deadline = new Date(Date.now() + budgetMs);
  const answer = fn.call(JSON.stringify({ instance_ids: s.ids }), { deadline });
  const transitionedBefore = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const { calls } = await s.admin.calls();
    for (const c of calls) if (c.transition && c.instanceId) transitionedBefore.add(c.instanceId);
    if (transitionedBefore.size >= 5) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(transitionedBefore.size).toBeGreaterThanOrEqual(5);
  const snapshot = await s.admin.state();
  writeFileSync(s.stateFile, JSON.stringify(snapshot));
  await killed(s.child);
  await new Promise((r) => setTimeout(r, 800));
  s.child = await spawnEmulator(s.port, s.stateFile);
  const raw = await answer;
  const answeredAt = Date.now();
  expect(raw.status, raw.body.slice(0, 200)).toBe(200);
  return { body: JSON.parse(raw.body) as PowerResponse, answeredAt, deadline, transitionedBefore };
}

describe("emulator restart in the middle of a batch", () => {
  it("resource principal: the restarted emulator no longer knows the token; every instance accounted for, the cause named", async () => {
    const s = await scenario();
    const rp = await s.admin.mintResourcePrincipal({ compartmentId: DEV });
    const output: string[] = [];
    const fn = await FnProcess.start({
      bundle: BUNDLES.start,
      env: {
        ...rp.env,
        OCI_COMPUTE_ENDPOINT: `http://127.0.0.1:${s.port}`,
        OCI_ENDPOINT: `http://127.0.0.1:${s.port}`,
        POWER_MAX_RATE: "100",
      },
      onOutput: (_stream, line) => output.push(line),
    });
    started.push({ kill: () => void fn.stop() });

    const { body, answeredAt, deadline, transitionedBefore } = await batchAcrossRestart(s, fn, 15_000);
    expect(answeredAt).toBeLessThanOrEqual(deadline.getTime());
    expect(accountingProblems(body, s.ids)).toEqual([]);
    expect(fn.alive).toBe(true);

    const now = new Map((await s.admin.listInstances()).map((i) => [i.id, i.lifecycleState]));
    const wrong: string[] = [];
    for (const r of body.results ?? []) {
      const state = now.get(r.target_id);
      if (r.outcome === "changed" && state !== "RUNNING" && state !== "STARTING")
        wrong.push(`${r.instance_id}: changed but ${state} after the restart`);
      if (
        r.outcome === "failed" &&
        !["AuthenticationFailed", "NetworkError", "DeadlineExceeded"].includes(r.error?.code ?? "")
      )
        wrong.push(`${r.instance_id}: failed with ${r.error?.code}: ${r.error?.message}`);
      if (r.error?.code === "AuthenticationFailed" && !/token/.test(r.error.message))
        wrong.push(`${r.instance_id}: AuthenticationFailed without naming the token: ${r.error.message}`);
    }
    // What it knew is kept: an instance whose START took effect before the kill is not reported as
    // untouched (it is in progress, changed, or failed with the transitional state it was last seen in).
    for (const r of body.results ?? []) {
      if (!transitionedBefore.has(r.target_id) || r.outcome === "changed" || r.outcome === "in_progress")
        continue;
      if (r.state_after !== "STARTING" && r.state_after !== "RUNNING")
        wrong.push(
          `${r.instance_id}: START took effect, reported ${r.outcome} with state_after ${r.state_after}`,
        );
    }
    expect(wrong).toEqual([]);
    // After the restart every signed call is refused: the unfinished instances say so.
    expect(body.results?.map((r) => r.error?.code)).toContain("AuthenticationFailed");
    expect(body.ok).toBe(false);
    expect(output.filter((l) => /Exception in function|Unhandled/i.test(l))).toEqual([]);
  });

  it("API key in the state file: the batch survives the restart; whatever is reported done is done", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const fingerprint = "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99";
    const user = "ocid1.user.oc1..restart";
    const s = await scenario([
      {
        keyId: `${TENANCY}/${user}/${fingerprint}`,
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      },
    ]);
    const dir = mkdtempSync(join(tmpdir(), "rel-restart-key-"));
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
    const config = join(dir, "config");
    writeFileSync(
      config,
      `[DEFAULT]\nuser=${user}\nfingerprint=${fingerprint}\ntenancy=${TENANCY}\nregion=us-ashburn-1\nkey_file=${keyFile}\n`,
    );
    const fn = await FnProcess.start({
      bundle: BUNDLES.start,
      env: {
        OCI_AUTH: "config_file",
        OCI_CONFIG_FILE: config,
        OCI_COMPUTE_ENDPOINT: `http://127.0.0.1:${s.port}`,
        OCI_ENDPOINT: `http://127.0.0.1:${s.port}`,
        POWER_MAX_RATE: "100",
      },
    });
    started.push({ kill: () => void fn.stop() });

    const { body, answeredAt, deadline, transitionedBefore } = await batchAcrossRestart(s, fn, 20_000);
    expect(answeredAt).toBeLessThanOrEqual(deadline.getTime());
    expect(accountingProblems(body, s.ids)).toEqual([]);
    expect(fn.alive).toBe(true);

    const now = new Map((await s.admin.listInstances()).map((i) => [i.id, i.lifecycleState]));
    const wrong: string[] = [];
    for (const r of body.results ?? []) {
      const state = now.get(r.target_id);
      if (r.outcome === "changed" && state !== "RUNNING")
        wrong.push(`${r.instance_id}: changed but ${state} after the restart`);
      if (r.outcome === "failed" && !r.error?.code) wrong.push(`${r.instance_id}: failed without a code`);
    }
    expect(wrong).toEqual([]);
    // The restarted emulator served the rest of the batch: instances not started before the kill
    // were started after it.
    const after = s.ids.filter((id) => !transitionedBefore.has(id));
    expect(
      after.filter((id) => now.get(id) === "RUNNING" || now.get(id) === "STARTING").length,
    ).toBeGreaterThan(0);
    const changed = body.results?.filter((r) => r.outcome === "changed").length ?? 0;
    expect(changed).toBeGreaterThan(BATCH / 2);
  });
});
