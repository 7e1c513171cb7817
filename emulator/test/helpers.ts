/** Shared helpers of the emulator tests: real SDK clients pointed at an in-process emulator. */
import * as common from "oci-common";
import * as core from "oci-core";
import type { GeneratedApiKey } from "../src/admin-client.js";
import { type RunningEmulator, startEmulator } from "../src/index.js";
import type { EmulatorState } from "../src/model.js";

export const COMPARTMENT_A = "ocid1.compartment.oc1..aaaaaaaacompartmenta";
export const COMPARTMENT_B = "ocid1.compartment.oc1..aaaaaaaacompartmentb";

/** One attempt only, so a single fault is what the test sees. */
export const NO_RETRY: common.RetryConfiguration = {
  terminationStrategy: new common.MaxAttemptsTerminationStrategy(1),
};

export async function emulator(state: EmulatorState = {}, timeScale = 0.01): Promise<RunningEmulator> {
  return await startEmulator({ state, timeScale });
}

export function apiKeyProvider(key: GeneratedApiKey): common.AuthenticationDetailsProvider {
  return new common.SimpleAuthenticationDetailsProvider(
    key.tenancyId,
    key.userId,
    key.fingerprint,
    key.privateKeyPem,
    null,
    common.Region.US_ASHBURN_1,
  );
}

export function compute(
  emu: RunningEmulator,
  provider: common.AuthenticationDetailsProvider,
): core.ComputeClient {
  const client = new core.ComputeClient({ authenticationDetailsProvider: provider });
  client.endpoint = emu.url;
  return client;
}

export async function apiKeyClient(
  emu: RunningEmulator,
  opts: { compartments?: string[] } = {},
): Promise<core.ComputeClient> {
  return compute(emu, apiKeyProvider(await emu.admin.generateApiKey(opts)));
}

/** Runs `fn` and returns the OciError it rejects with (fails the test when it resolves). */
export async function ociError(fn: () => Promise<unknown>): Promise<common.OciError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof common.OciError) return e;
    throw e;
  }
  throw new Error("expected an OciError, the call succeeded");
}

export const action = (a: "START" | "STOP" | "SOFTSTOP" | "RESET" | "SOFTRESET") =>
  a as core.requests.InstanceActionRequest["action"];

export async function waitForState(
  emu: RunningEmulator,
  id: string,
  state: string,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const inst = await emu.admin.getInstance(id);
    if (inst.lifecycleState === state) return;
    if (Date.now() > until)
      throw new Error(`instance ${id} did not reach ${state}; last seen ${inst.lifecycleState}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A raw signed request (for inputs the SDK would never send: malformed JSON, oversized bodies,
 * skewed clocks, tampered bodies). Signs like oci-common's DefaultRequestSigner.
 */
export async function signedFetch(
  emu: RunningEmulator,
  key: GeneratedApiKey,
  method: string,
  pathAndQuery: string,
  opts: {
    body?: string | Buffer;
    date?: Date;
    bodyForHash?: string | Buffer;
    headers?: Record<string, string>;
    /** false: sign a POST without the body headers, as the Python SDK does for opaque bodies. */
    signBody?: boolean;
    /** The request target to sign when it is not the one sent (a tampered path). */
    signedPath?: string;
  } = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const { createHash, sign } = await import("node:crypto");
  const host = new URL(emu.url).host;
  const headers: Record<string, string> = {
    "x-date": (opts.date ?? new Date()).toUTCString(),
    host,
    ...opts.headers,
  };
  const names = ["x-date", "(request-target)", "host"];
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  if ((method === "POST" || method === "PUT" || method === "PATCH") && opts.signBody !== false) {
    const hashed = Buffer.from(opts.bodyForHash ?? body ?? "");
    headers["content-type"] = "application/json";
    headers["content-length"] = String(body?.length ?? 0);
    headers["x-content-sha256"] = createHash("sha256").update(hashed).digest("base64");
    names.push("content-type", "content-length", "x-content-sha256");
  }
  const signingString = names
    .map((n) =>
      n === "(request-target)"
        ? `${n}: ${method.toLowerCase()} ${opts.signedPath ?? pathAndQuery}`
        : `${n}: ${headers[n]}`,
    )
    .join("\n");
  const signature = sign("sha256", Buffer.from(signingString), key.privateKeyPem).toString("base64");
  headers.authorization = `Signature version="1",keyId="${key.keyId}",algorithm="rsa-sha256",headers="${names.join(" ")}",signature="${signature}"`;
  const { request } = await import("node:http");
  return await new Promise((resolve, reject) => {
    const req = request(`${emu.url}${pathAndQuery}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers: h, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Polls `probe` until it returns a value other than undefined; fails naming what was awaited and the
 * last thing seen once `timeoutMs` has passed.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<{ done: T | undefined; seen: unknown }>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { done, seen } = await probe();
    if (done !== undefined) return done;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not reached in ${timeoutMs} ms; last seen ${JSON.stringify(seen)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
