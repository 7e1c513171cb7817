/**
 * Authentication faults through the built bundle: an RPST that expires in the middle of a batch, a
 * garbled RPST (not a JWT, and a JWT whose payload was tampered with), missing resource-principal
 * env, unreachable metadata and federation endpoints, and keys the emulator does not know (an API
 * key never registered, a token signed by another emulator). Each gives a clear error naming the
 * cause, ok:false, a live process; and neither the function's output nor any response contains the
 * key material or the token, whole or in parts.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FnProcess } from "../../emulator/src/fn-agent.js";
import { type RunningEmulator, startEmulator } from "../../emulator/src/index.js";
import type { PowerResponse } from "../../src/response.js";
import { BUNDLES, requireBuiltBundles } from "../helpers/integration.js";
import { leaksAny } from "./harness.js";

const DEV = "ocid1.compartment.oc1..authfaults";

let emu: RunningEmulator;
/** A second emulator: its tokens are signed with a key the first one does not know. */
let stranger: RunningEmulator;
const processes: FnProcess[] = [];
/** Every line every function process wrote. */
const logs: string[] = [];
/** Every response: body and headers. */
const responses: string[] = [];
/** Every token and private key handed to a function in this file. */
const secrets: string[] = [];

beforeAll(async () => {
  requireBuiltBundles();
  emu = await startEmulator({ timeScale: 0.01 });
  stranger = await startEmulator({ timeScale: 0.01 });
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await emu?.close();
  await stranger?.close();
});

async function fn(env: Record<string, string>): Promise<FnProcess> {
  const p = await FnProcess.start({
    bundle: BUNDLES.start,
    env: {
      OCI_COMPUTE_ENDPOINT: emu.url,
      OCI_ENDPOINT: emu.url,
      METRICS: "off",
      POWER_MAX_RATE: "100",
      ...env,
    },
    onOutput: (_stream, line) => logs.push(line),
  });
  processes.push(p);
  return p;
}

async function call(p: FnProcess, ids: string[], budgetMs = 20_000): Promise<PowerResponse> {
  const deadline = new Date(Date.now() + budgetMs);
  const raw = await p.call(JSON.stringify({ instance_ids: ids }), { deadline });
  responses.push(raw.body, JSON.stringify(raw.headers));
  expect(Date.now()).toBeLessThanOrEqual(deadline.getTime());
  expect(raw.status, raw.body.slice(0, 200)).toBe(200);
  return JSON.parse(raw.body) as PowerResponse;
}

async function stopped(n: number): Promise<string[]> {
  const made = await emu.admin.putInstances(
    Array.from({ length: n }, () => ({ compartmentId: DEV, lifecycleState: "STOPPED" })),
  );
  return made.map((i) => i.id);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Either the whole call or every instance failed with this code and a message matching `cause`. */
function expectAuthFailure(body: PowerResponse, ids: string[], cause: RegExp): void {
  expect(body.ok).toBe(false);
  if (body.error) {
    expect(body.error).toMatchObject({ code: "AuthenticationFailed", message: expect.stringMatching(cause) });
    return;
  }
  expect(body.results).toHaveLength(ids.length);
  for (const r of body.results ?? []) {
    expect(r).toMatchObject({
      outcome: "failed",
      error: { code: "AuthenticationFailed", message: expect.stringMatching(cause) },
    });
  }
}

function tamper(jwt: string): string {
  const [header = "", payload = "", signature = ""] = jwt.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  claims.res_compartment = "ocid1.compartment.oc1..elsewhere";
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}

describe("authentication faults", () => {
  it("an RPST that expires in the middle of a batch: accepted actions are not reported as done", async () => {
    const rp = await emu.admin.mintResourcePrincipal({ compartmentId: DEV, ttlSeconds: 2 });
    secrets.push(rp.env.OCI_RESOURCE_PRINCIPAL_RPST, rp.env.OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM);
    // START takes 30 s × 0.15 = 4.5 s: the token expires while the function waits.
    await emu.admin.setTimings({ timeScale: 0.15 });
    const ids = await stopped(4);
    const p = await fn(rp.env);
    const { next } = await emu.admin.calls();
    let body: PowerResponse;
    try {
      body = await call(p, ids, 12_000);
    } finally {
      await emu.admin.setTimings({ timeScale: 0.01 });
    }
    const { calls } = await emu.admin.calls(next);
    expect(calls.map((c) => c.status)).toContain(401);
    expect(body.ok).toBe(false);
    expect(body.results).toHaveLength(4);
    for (const r of body.results ?? []) {
      // The START was accepted before the token expired: the instance is moving, not "changed".
      expect(calls).toContainEqual(expect.objectContaining({ instanceId: r.instance_id, transition: true }));
      expect(r.outcome).not.toBe("changed");
      if (r.outcome === "failed") {
        expect(r.error).toMatchObject({
          code: "AuthenticationFailed",
          message: expect.stringMatching(/token has expired/),
        });
      }
    }
    expect(body.message).toMatch(/AuthenticationFailed|in progress/);
    expect(p.alive).toBe(true);
  });

  it("a garbled RPST (not a JWT): AuthenticationFailed naming the token, no power action", async () => {
    const rp = await emu.admin.mintResourcePrincipal({ compartmentId: DEV });
    secrets.push(rp.env.OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM);
    const ids = await stopped(2);
    const p = await fn({ ...rp.env, OCI_RESOURCE_PRINCIPAL_RPST: "garbled-not-a-token" });
    const { next } = await emu.admin.calls();
    const body = await call(p, ids);
    expectAuthFailure(body, ids, /RPST|resource principal|security token/);
    expect((await emu.admin.calls(next)).calls.filter((c) => c.status !== 401)).toEqual([]);
    expect(p.alive).toBe(true);
  });

  it("a tampered RPST (payload changed, signature kept): OCI's 401 becomes AuthenticationFailed", async () => {
    const rp = await emu.admin.mintResourcePrincipal({ compartmentId: DEV });
    const forged = tamper(rp.env.OCI_RESOURCE_PRINCIPAL_RPST);
    secrets.push(rp.env.OCI_RESOURCE_PRINCIPAL_RPST, forged, rp.env.OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM);
    const ids = await stopped(2);
    const p = await fn({ ...rp.env, OCI_RESOURCE_PRINCIPAL_RPST: forged });
    const { next } = await emu.admin.calls();
    const body = await call(p, ids);
    expectAuthFailure(body, ids, /credentials|NotAuthenticated/);
    const { calls } = await emu.admin.calls(next);
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls.map((c) => c.status))).toEqual(new Set([401]));
    expect(calls.map((c) => c.operation)).not.toContain("InstanceAction");
    expect(p.alive).toBe(true);
  });

  it("OCI_AUTH=resource_principal without the RPST variables: names what is missing", async () => {
    const ids = await stopped(1);
    const p = await fn({ OCI_AUTH: "resource_principal" });
    const body = await call(p, ids);
    expectAuthFailure(body, ids, /OCI_RESOURCE_PRINCIPAL_VERSION/);
    expect(p.alive).toBe(true);
  });

  it("OCI_AUTH=instance_principal with the metadata service unreachable: names the endpoint", async () => {
    const port = await closedPort();
    const ids = await stopped(1);
    const p = await fn({
      OCI_AUTH: "instance_principal",
      OCI_METADATA_BASE_URL: `http://127.0.0.1:${port}/opc/v2/`,
      OCI_FEDERATION_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    const { next } = await emu.admin.calls();
    const body = await call(p, ids);
    expectAuthFailure(body, ids, new RegExp(`instance principal.*127\\.0\\.0\\.1:${port}`));
    expect((await emu.admin.calls(next)).calls).toEqual([]);
    expect(p.alive).toBe(true);
  });

  it("instance principal with a working metadata service but the federation endpoint unreachable", async () => {
    const port = await closedPort();
    const ip = await emu.admin.createInstancePrincipal({ compartmentId: DEV });
    const ids = await stopped(1);
    const p = await fn({
      OCI_AUTH: "instance_principal",
      OCI_METADATA_BASE_URL: ip.metadataBaseUrl,
      OCI_FEDERATION_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    const body = await call(p, ids);
    // The SDK throws a plain object {code, message} when the token fetch fails: the cause it names
    // ("Failed to fetch the token from auth server") must reach the answer, not "unknown reason".
    expectAuthFailure(body, ids, /federation|auth server/);
    expect(p.alive).toBe(true);
  });

  it("an API key the emulator does not know (config file): AuthenticationFailed, no action", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    secrets.push(pem);
    const dir = mkdtempSync(join(tmpdir(), "rel-auth-"));
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, pem, { mode: 0o600 });
    const config = join(dir, "config");
    writeFileSync(
      config,
      [
        "[DEFAULT]",
        "user=ocid1.user.oc1..unknown",
        "fingerprint=12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0",
        `tenancy=${emu.tenancyId}`,
        `region=${emu.region}`,
        `key_file=${keyFile}`,
        "",
      ].join("\n"),
    );
    const ids = await stopped(2);
    const p = await fn({ OCI_AUTH: "config_file", OCI_CONFIG_FILE: config });
    const { next } = await emu.admin.calls();
    const body = await call(p, ids);
    expectAuthFailure(body, ids, /credentials|NotAuthenticated/);
    const { calls } = await emu.admin.calls(next);
    expect(calls.filter((c) => c.operation === "InstanceAction")).toEqual([]);
    expect(p.alive).toBe(true);
  });

  it("a token signed by another emulator (a signing key this one does not know)", async () => {
    const rp = await stranger.admin.mintResourcePrincipal({ compartmentId: DEV });
    secrets.push(rp.env.OCI_RESOURCE_PRINCIPAL_RPST, rp.env.OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM);
    const ids = await stopped(2);
    const p = await fn(rp.env);
    const body = await call(p, ids);
    expectAuthFailure(body, ids, /credentials|NotAuthenticated/);
    expect(p.alive).toBe(true);
  });

  it("every line the functions wrote is one JSON object (the SDK's own console output included)", () => {
    const notJson = logs.filter((l) => {
      try {
        return typeof JSON.parse(l) !== "object";
      } catch {
        return true;
      }
    });
    expect(notJson.slice(0, 5)).toEqual([]);
  });

  it("no key material or token, whole or in parts, in any output line or response", () => {
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    expect(logs.length).toBeGreaterThan(20);
    const everything = [...logs, ...responses].join("\n");
    // Asserted as a boolean: a failure must not print what it found.
    expect(leaksAny(everything, secrets)).toBe(false);
    expect(/BEGIN [A-Z ]*PRIVATE KEY/.test(everything)).toBe(false);
  });
});
