import * as functions from "oci-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey } from "../src/admin-client.js";
import type { RunningEmulator } from "../src/index.js";
import {
  apiKeyProvider,
  COMPARTMENT_A,
  COMPARTMENT_B,
  emulator,
  NO_RETRY,
  ociError,
  signedFetch,
} from "./helpers.js";

const BUNDLE = "emulator/test/fixtures/echo-fn/func.js";
const ECHO = "ocid1.fnfunc.oc1.iad.aaaaecho";
const LIMITED = "ocid1.fnfunc.oc1.iad.aaaalimited";
const SLOW = "ocid1.fnfunc.oc1.iad.aaaaslow";

let emu: RunningEmulator;
let key: GeneratedApiKey;
let instanceA: string;
let instanceB: string;

beforeAll(async () => {
  emu = await emulator({
    functions: [
      { id: ECHO, displayName: "echo", bundle: BUNDLE, timeoutInSeconds: 30, config: { GREETING: "hello" } },
    ],
  });
  await emu.admin.registerFunctions([
    {
      id: LIMITED,
      displayName: "limited",
      bundle: BUNDLE,
      timeoutInSeconds: 30,
      config: { ALLOWED_COMPARTMENT_IDS: COMPARTMENT_A },
    },
    { id: SLOW, displayName: "slow", bundle: BUNDLE, timeoutInSeconds: 1 },
  ]);
  const [a, b] = await emu.admin.putInstances([
    { compartmentId: COMPARTMENT_A, lifecycleState: "RUNNING" },
    { compartmentId: COMPARTMENT_B, lifecycleState: "STOPPED" },
  ]);
  instanceA = a?.id ?? "";
  instanceB = b?.id ?? "";
  key = await emu.admin.generateApiKey();
});
afterAll(async () => await emu.close());

/** The invoke response body: a node Readable or a web ReadableStream, depending on the fetch in use. */
async function readAll(value: unknown): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of value as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** The OCI CLI's flow: get the function for its invoke endpoint, then invoke there. */
async function invoke(
  functionId: string,
  body: unknown,
  opts: { fnInvokeType?: "sync" | "detached" } = {},
): Promise<{ text: string; opcRequestId: string }> {
  const provider = apiKeyProvider(key);
  const mgmt = new functions.FunctionsManagementClient({ authenticationDetailsProvider: provider });
  mgmt.endpoint = emu.url;
  const { function: fn } = await mgmt.getFunction({ functionId });
  const client = new functions.FunctionsInvokeClient({ authenticationDetailsProvider: provider });
  client.endpoint = fn.invokeEndpoint ?? "";
  const res = await client.invokeFunction({
    functionId,
    invokeFunctionBody: JSON.stringify(body),
    retryConfiguration: NO_RETRY,
    ...(opts.fnInvokeType
      ? { fnInvokeType: opts.fnInvokeType as functions.requests.InvokeFunctionRequest.FnInvokeType }
      : {}),
  });
  return {
    text: await readAll(res.value),
    opcRequestId: res.opcRequestId,
  };
}

describe("Functions API", () => {
  it("getFunction returns the SDK Function model with the emulator as invokeEndpoint", async () => {
    const mgmt = new functions.FunctionsManagementClient({
      authenticationDetailsProvider: apiKeyProvider(key),
    });
    mgmt.endpoint = emu.url;
    const { function: fn } = await mgmt.getFunction({ functionId: ECHO });
    expect(fn).toMatchObject({
      id: ECHO,
      displayName: "echo",
      lifecycleState: "ACTIVE",
      invokeEndpoint: emu.url,
    });
    expect(fn.timeoutInSeconds).toBe(30);
    expect(fn.config).toEqual({ GREETING: "hello" });
  });

  it("invokes the bundle with config, a resource principal and the Fn contract; keeps it warm", async () => {
    const first = JSON.parse((await invoke(ECHO, { hello: "world" })).text) as Record<string, unknown>;
    expect(first).toMatchObject({
      input: { hello: "world" },
      fnId: ECHO,
      greeting: "hello",
      rpVersion: "2.2",
      rpRegion: "us-ashburn-1",
      hasRpst: true,
      computeEndpoint: emu.url,
      // One region served: no endpoint template.
      endpointTemplate: null,
    });
    const deadline = Date.parse(String(first.deadline));
    expect(deadline).toBeGreaterThan(Date.now());
    const second = JSON.parse((await invoke(ECHO, {})).text) as Record<string, unknown>;
    expect(second.pid).toBe(first.pid);
    expect(second.callId).not.toBe(first.callId);
    const { calls } = await emu.admin.calls();
    expect(calls.filter((c) => c.operation === "InvokeFunction").at(-1)).toMatchObject({
      functionId: ECHO,
      principal: key.keyId,
      status: 200,
    });
  });

  it("the function's resource principal reaches Compute, limited to ALLOWED_COMPARTMENT_IDS", async () => {
    const inside = JSON.parse((await invoke(LIMITED, { getInstance: instanceA })).text) as Record<
      string,
      unknown
    >;
    expect(inside.instance).toEqual({ state: "RUNNING" });
    const outside = JSON.parse((await invoke(LIMITED, { getInstance: instanceB })).text) as Record<
      string,
      unknown
    >;
    expect(outside.instance).toEqual({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
    const { calls } = await emu.admin.calls();
    expect(calls.filter((c) => c.operation === "GetInstance").at(-1)?.principal).toBe(LIMITED);
  });

  it("restarts a process that died", async () => {
    const before = JSON.parse((await invoke(ECHO, {})).text) as { pid: number };
    const err = await ociError(() => invoke(ECHO, { exit: true }));
    expect(err.statusCode).toBe(502);
    const after = JSON.parse((await invoke(ECHO, {})).text) as { pid: number };
    expect(after.pid).not.toBe(before.pid);
  });

  it("a function that throws is 502; one past its timeout is 504", async () => {
    const thrown = await ociError(() => invoke(ECHO, { throw: true }));
    expect([thrown.statusCode, thrown.serviceCode]).toEqual([502, "FunctionInvokeExecutionFailed"]);
    const slow = await ociError(() => invoke(SLOW, { sleepMs: 5_000 }));
    expect([slow.statusCode, slow.serviceCode]).toEqual([504, "FunctionInvokeTimeout"]);
  });

  it("detached invocations answer 202 and run in the background", async () => {
    const provider = apiKeyProvider(key);
    const client = new functions.FunctionsInvokeClient({ authenticationDetailsProvider: provider });
    client.endpoint = emu.url;
    const res = await client.invokeFunction({
      functionId: ECHO,
      invokeFunctionBody: JSON.stringify({ sleepMs: 100, getInstance: instanceA }),
      fnInvokeType: "detached" as functions.requests.InvokeFunctionRequest.FnInvokeType,
      retryConfiguration: NO_RETRY,
    });
    expect(res.opcRequestId).toBeTruthy();
    const { calls, next } = await emu.admin.calls();
    expect(calls.filter((c) => c.operation === "InvokeFunction").at(-1)?.status).toBe(202);
    // The function runs after the answer: its own Compute call shows up later.
    const until = Date.now() + 10_000;
    let seen = false;
    while (!seen && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
      seen = (await emu.admin.calls(next)).calls.some(
        (c) => c.operation === "GetInstance" && c.principal === ECHO,
      );
    }
    expect(seen).toBe(true);
  });

  it("an unknown function or bad headers are refused the OCI way", async () => {
    const mgmt = new functions.FunctionsManagementClient({
      authenticationDetailsProvider: apiKeyProvider(key),
    });
    mgmt.endpoint = emu.url;
    const missing = await ociError(() =>
      mgmt.getFunction({ functionId: "ocid1.fnfunc.oc1.iad.nothere", retryConfiguration: NO_RETRY }),
    );
    expect([missing.statusCode, missing.serviceCode]).toEqual([404, "NotAuthorizedOrNotFound"]);
    const badIntent = await signedFetch(emu, key, "POST", `/20181201/functions/${ECHO}/actions/invoke`, {
      body: "{}",
      headers: { "fn-intent": "telepathy" },
    });
    expect(badIntent.status).toBe(400);
    // An invoke signed without the body headers (allowed for opaque bodies) is accepted for invoke only.
    const pythonStyle = await signedFetch(emu, key, "POST", `/20181201/functions/${ECHO}/actions/invoke`, {
      body: '{"x":1}',
      signBody: false,
    });
    expect(pythonStyle.status).toBe(200);
    expect(pythonStyle.json).toMatchObject({ input: { x: 1 } });
    const computeUnsignedBody = await signedFetch(
      emu,
      key,
      "POST",
      `/20160918/instances/${instanceA}?action=STOP`,
      {
        signBody: false,
      },
    );
    expect(computeUnsignedBody.status).toBe(401);
    const unsigned = await fetch(`${emu.url}/20181201/functions/${ECHO}/actions/invoke`, {
      method: "POST",
      body: "{}",
    });
    expect(unsigned.status).toBe(401);
  });

  it("a principal limited to other compartments can't see the function", async () => {
    const fnComp = "ocid1.compartment.oc1..aaaafunctions";
    await emu.admin.registerFunctions([
      { id: "ocid1.fnfunc.oc1.iad.aaaahidden", displayName: "hidden", bundle: BUNDLE, compartmentId: fnComp },
    ]);
    const limitedKey = await emu.admin.generateApiKey({ compartments: [COMPARTMENT_A] });
    const mgmt = new functions.FunctionsManagementClient({
      authenticationDetailsProvider: apiKeyProvider(limitedKey),
    });
    mgmt.endpoint = emu.url;
    const err = await ociError(() =>
      mgmt.getFunction({ functionId: "ocid1.fnfunc.oc1.iad.aaaahidden", retryConfiguration: NO_RETRY }),
    );
    expect(err.statusCode).toBe(404);
  });
});

describe("Functions API concurrency", () => {
  it("concurrent first calls share one process", async () => {
    const id = "ocid1.fnfunc.oc1.iad.aaaaconcurrent";
    await emu.admin.registerFunctions([{ id, displayName: "concurrent", bundle: BUNDLE }]);
    const answers = await Promise.all([invoke(id, { n: 1 }), invoke(id, { n: 2 }), invoke(id, { n: 3 })]);
    const pids = new Set(answers.map((a) => (JSON.parse(a.text) as { pid: number }).pid));
    expect(pids.size).toBe(1);
  });

  it("re-registering a function restarts it with the new config", async () => {
    const id = "ocid1.fnfunc.oc1.iad.aaaareconfig";
    await emu.admin.registerFunctions([
      { id, displayName: "reconfig", bundle: BUNDLE, config: { GREETING: "one" } },
    ]);
    const first = JSON.parse((await invoke(id, {})).text) as { greeting: string; pid: number };
    await emu.admin.registerFunctions([
      { id, displayName: "reconfig", bundle: BUNDLE, config: { GREETING: "two" } },
    ]);
    const second = JSON.parse((await invoke(id, {})).text) as { greeting: string; pid: number };
    expect([first.greeting, second.greeting]).toEqual(["one", "two"]);
    expect(second.pid).not.toBe(first.pid);
  });

  it("a bundle that does not exist is a 502 naming the problem", async () => {
    const id = "ocid1.fnfunc.oc1.iad.aaaamissing";
    await emu.admin.registerFunctions([
      { id, displayName: "missing", bundle: "emulator/test/fixtures/nope.js" },
    ]);
    const err = await ociError(() => invoke(id, {}));
    expect([err.statusCode, err.serviceCode]).toEqual([502, "FunctionInvokeContainerInitFailed"]);
  });
});
