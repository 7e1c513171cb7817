/**
 * The Applications API as the real Fn CLI uses it, replayed with the real oci-functions SDK and real
 * request signing: `fn invoke <app> <fn>` is ListApplications(compartmentId, displayName) →
 * GetApplication → ListFunctions(applicationId, displayName) → GetFunction → POST to invokeEndpoint;
 * `fn list apps` sends only compartmentId, `fn list functions <app>` only applicationId.
 */
import * as functions from "oci-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey } from "../src/admin-client.js";
import { type RunningEmulator, startEmulator } from "../src/index.js";
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
const OPS = "ocid1.compartment.oc1..aaaaaaaaappsops";
const LEGACY = "ocid1.compartment.oc1..aaaaaaaaappslegacy";
const POWER_APP = "ocid1.fnapp.oc1.iad.aaaaaaaapowerapp";
const OTHER_APP = "ocid1.fnapp.oc1.iad.aaaaaaaaotherapp";
const HIDDEN_APP = "ocid1.fnapp.oc1.iad.aaaaaaaahiddenapp";
const ECHO = "ocid1.fnfunc.oc1.iad.aaaaaaaaappsecho";
const SECOND = "ocid1.fnfunc.oc1.iad.aaaaaaaaappssecond";
const THIRD = "ocid1.fnfunc.oc1.iad.aaaaaaaaappsthird";
const OLD_STYLE = "ocid1.fnfunc.oc1.iad.aaaaaaaaappsoldstyle";
const NOT_BUILT = "ocid1.fnfunc.oc1.iad.aaaaaaaaappsnotbuilt";

let emu: RunningEmulator;
let key: GeneratedApiKey;
let mgmt: functions.FunctionsManagementClient;

beforeAll(async () => {
  emu = await emulator({
    applications: [
      {
        id: POWER_APP,
        compartmentId: OPS,
        displayName: "power-app",
        config: { SHARED: "from-app", GREETING: "app-greeting", ALLOWED_COMPARTMENT_IDS: COMPARTMENT_A },
      },
      { id: OTHER_APP, compartmentId: OPS, displayName: "other-app" },
      { id: HIDDEN_APP, compartmentId: COMPARTMENT_B, displayName: "hidden-app" },
    ],
    functions: [
      { id: ECHO, displayName: "echo", bundle: BUNDLE, applicationId: POWER_APP, config: { GREETING: "fn" } },
      { id: SECOND, displayName: "second", bundle: BUNDLE, applicationId: POWER_APP },
      { id: THIRD, displayName: "third", bundle: BUNDLE, applicationId: POWER_APP },
      {
        id: NOT_BUILT,
        displayName: "not-built",
        bundle: "emulator/test/fixtures/nope.js",
        applicationId: OTHER_APP,
      },
      { id: OLD_STYLE, displayName: "old-style", bundle: BUNDLE, compartmentId: LEGACY },
    ],
  });
  key = await emu.admin.generateApiKey();
  mgmt = new functions.FunctionsManagementClient({ authenticationDetailsProvider: apiKeyProvider(key) });
  mgmt.endpoint = emu.url;
});
afterAll(async () => await emu.close());

async function readAll(value: unknown): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of value as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function invokeClient(endpoint: string): functions.FunctionsInvokeClient {
  const client = new functions.FunctionsInvokeClient({ authenticationDetailsProvider: apiKeyProvider(key) });
  client.endpoint = endpoint;
  return client;
}

/** Every page of a list call, following opc-next-page the way the Fn CLI's paging loop does. */
async function allPages<T>(
  list: (page: string | undefined) => Promise<{ items: T[]; opcNextPage?: string }>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let page: string | undefined;
  let pages = 0;
  do {
    const res = await list(page);
    items.push(...res.items);
    page = res.opcNextPage;
    pages += 1;
    if (pages > 100) throw new Error("more than 100 pages: opc-next-page never ends");
  } while (page);
  return { items, pages };
}

describe("fn invoke <app> <fn>: the Fn CLI's lookup, replayed", () => {
  it("finds the app and the function by name, then invokes at invokeEndpoint with the app's env", async () => {
    const before = (await emu.admin.calls()).next;
    const apps = await mgmt.listApplications({ compartmentId: OPS, displayName: "power-app" });
    expect(apps.items).toHaveLength(1);
    const summary = apps.items[0];
    // The fields the Fn CLI dereferences without checking: all must be there.
    for (const field of [
      "id",
      "displayName",
      "compartmentId",
      "lifecycleState",
      "timeCreated",
      "timeUpdated",
    ]) {
      expect(summary, field).toHaveProperty(field);
    }
    expect(summary).toMatchObject({
      id: POWER_APP,
      displayName: "power-app",
      compartmentId: OPS,
      lifecycleState: "ACTIVE",
    });

    const app = await mgmt.getApplication({ applicationId: POWER_APP });
    expect(app.etag).toMatch(/^[0-9a-f]{40}$/);
    expect(app.application.config).toMatchObject({ SHARED: "from-app" });

    const fns = await mgmt.listFunctions({ applicationId: app.application.id, displayName: "echo" });
    expect(fns.items).toHaveLength(1);
    const fnSummary = fns.items[0];
    for (const field of [
      "id",
      "displayName",
      "applicationId",
      "compartmentId",
      "invokeEndpoint",
      "memoryInMBs",
      "timeoutInSeconds",
      "lifecycleState",
      "timeCreated",
      "timeUpdated",
    ]) {
      expect(fnSummary, field).toHaveProperty(field);
    }
    expect(fnSummary).toMatchObject({
      id: ECHO,
      applicationId: POWER_APP,
      compartmentId: OPS,
      invokeEndpoint: emu.url,
    });

    const { function: fn } = await mgmt.getFunction({ functionId: fnSummary?.id ?? "" });
    const res = await invokeClient(fn.invokeEndpoint ?? "").invokeFunction({
      functionId: fn.id,
      invokeFunctionBody: JSON.stringify({ hello: "apps" }),
      retryConfiguration: NO_RETRY,
    });
    const out = JSON.parse(await readAll(res.value)) as Record<string, unknown>;
    // Config is the application's overlaid by the function's; FN_APP_* come from the application.
    expect(out).toMatchObject({
      input: { hello: "apps" },
      fnId: ECHO,
      appId: POWER_APP,
      appName: "power-app",
      fnName: "echo",
      greeting: "fn",
      shared: "from-app",
    });
    const ops = (await emu.admin.calls(before)).calls.map((c) => [c.operation, c.status]);
    expect(ops).toEqual([
      ["ListApplications", 200],
      ["GetApplication", 200],
      ["ListFunctions", 200],
      ["GetFunction", 200],
      ["InvokeFunction", 200],
    ]);
  });

  it("the application's ALLOWED_COMPARTMENT_IDS limits the function's resource principal", async () => {
    const [a, b] = await emu.admin.putInstances([
      { compartmentId: COMPARTMENT_A, lifecycleState: "RUNNING" },
      { compartmentId: COMPARTMENT_B, lifecycleState: "RUNNING" },
    ]);
    const call = async (instanceId: string) => {
      const res = await invokeClient(emu.url).invokeFunction({
        functionId: SECOND,
        invokeFunctionBody: JSON.stringify({ getInstance: instanceId }),
        retryConfiguration: NO_RETRY,
      });
      return (JSON.parse(await readAll(res.value)) as { instance: unknown }).instance;
    };
    expect(await call(a?.id ?? "")).toEqual({ state: "RUNNING" });
    expect(await call(b?.id ?? "")).toEqual({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
  });
});

describe("fn list apps / fn list functions: listing and paging", () => {
  it("lists a compartment's applications one page at a time with limit 1", async () => {
    const { items, pages } = await allPages((page) =>
      mgmt.listApplications({ compartmentId: OPS, limit: 1, ...(page ? { page } : {}) }),
    );
    expect(items.map((a) => a.displayName)).toEqual(["other-app", "power-app"]);
    expect(pages).toBe(2);
  });

  it("lists an application's functions one page at a time, sorted as asked", async () => {
    const asc = await allPages((page) =>
      mgmt.listFunctions({ applicationId: POWER_APP, limit: 1, ...(page ? { page } : {}) }),
    );
    expect(asc.items.map((f) => f.displayName)).toEqual(["echo", "second", "third"]);
    expect(asc.pages).toBe(3);
    expect(asc.items.every((f) => f.invokeEndpoint === emu.url && f.applicationId === POWER_APP)).toBe(true);
    const desc = await mgmt.listFunctions({
      applicationId: POWER_APP,
      sortBy: functions.requests.ListFunctionsRequest.SortBy.DisplayName,
      sortOrder: functions.requests.ListFunctionsRequest.SortOrder.Desc,
    });
    expect(desc.items.map((f) => f.displayName)).toEqual(["third", "second", "echo"]);
    expect(desc.opcNextPage).toBeUndefined();
  });

  it("functions without applicationId join their compartment's default application", async () => {
    const apps = await mgmt.listApplications({ compartmentId: LEGACY });
    expect(apps.items.map((a) => a.displayName)).toEqual(["emulator-app"]);
    const fns = await mgmt.listFunctions({ applicationId: apps.items[0]?.id ?? "" });
    expect(fns.items.map((f) => [f.id, f.compartmentId])).toEqual([[OLD_STYLE, LEGACY]]);
    const { function: fn } = await mgmt.getFunction({ functionId: OLD_STYLE });
    expect(fn.applicationId).toBe(apps.items[0]?.id);
  });

  it("serves the 20260325 prefix too, and filters by id and lifecycleState", async () => {
    const res = await signedFetch(
      emu,
      key,
      "GET",
      `/20260325/applications?compartmentId=${OPS}&id=${OTHER_APP}`,
    );
    expect(res.status).toBe(200);
    expect((res.json as Array<{ id: string }>).map((a) => a.id)).toEqual([OTHER_APP]);
    const inactive = await signedFetch(
      emu,
      key,
      "GET",
      `/20181201/functions?applicationId=${POWER_APP}&lifecycleState=INACTIVE`,
    );
    expect(inactive.json).toEqual([]);
  });
});

describe("refusals, the OCI way", () => {
  it.each([
    ["/20181201/applications", 400, "MissingParameter", "compartmentId"],
    ["/20181201/functions", 400, "MissingParameter", "applicationId"],
    [`/20181201/applications?compartmentId=${OPS}&limit=0`, 400, "InvalidParameter", "limit"],
    [`/20181201/applications?compartmentId=${OPS}&sortBy=size`, 400, "InvalidParameter", "sortBy"],
    [`/20181201/applications?compartmentId=${OPS}&sortOrder=UP`, 400, "InvalidParameter", "sortOrder"],
    [`/20181201/applications?compartmentId=${OPS}&page=zzz`, 400, "InvalidParameter", "page"],
    [
      `/20181201/applications?compartmentId=${OPS}&lifecycleState=ASLEEP`,
      400,
      "InvalidParameter",
      "lifecycleState",
    ],
    ["/20181201/applications/ocid1.fnapp.oc1.iad.nosuchapp", 404, "NotAuthorizedOrNotFound", "application"],
    [
      "/20181201/functions?applicationId=ocid1.fnapp.oc1.iad.nosuchapp",
      404,
      "NotAuthorizedOrNotFound",
      "application",
    ],
  ])("GET %s → %i %s", async (path, status, code, named) => {
    const res = await signedFetch(emu, key, "GET", path);
    expect(res.status).toBe(status);
    const body = res.json as { code: string; message: string };
    expect(body.code).toBe(code);
    expect(body.message).toContain(named);
  });

  it("a compartment or application the caller may not see is the same 404 as a missing one", async () => {
    const limited = await emu.admin.generateApiKey({ compartments: [OPS] });
    const client = new functions.FunctionsManagementClient({
      authenticationDetailsProvider: apiKeyProvider(limited),
    });
    client.endpoint = emu.url;
    expect((await client.listApplications({ compartmentId: OPS })).items).toHaveLength(2);
    for (const call of [
      () => client.listApplications({ compartmentId: COMPARTMENT_B, retryConfiguration: NO_RETRY }),
      () => client.getApplication({ applicationId: HIDDEN_APP, retryConfiguration: NO_RETRY }),
      () => client.listFunctions({ applicationId: HIDDEN_APP, retryConfiguration: NO_RETRY }),
    ]) {
      const err = await ociError(call);
      expect([err.statusCode, err.serviceCode]).toEqual([404, "NotAuthorizedOrNotFound"]);
    }
  });

  it("a function naming no application is refused at start, naming it", async () => {
    await expect(
      startEmulator({
        state: {
          functions: [
            { id: ECHO, displayName: "echo", bundle: BUNDLE, applicationId: "ocid1.fnapp.oc1.iad.ghost" },
          ],
        },
      }),
    ).rejects.toThrow(/applicationId ocid1\.fnapp\.oc1\.iad\.ghost names no application/);
    await expect(
      emu.admin.registerFunctions([
        { id: ECHO, displayName: "echo", bundle: BUNDLE, applicationId: POWER_APP, compartmentId: LEGACY },
      ]),
    ).rejects.toThrow(/differs from its application's/);
  });

  it("bad applications are refused naming the entry and field", async () => {
    await expect(
      emu.admin.registerApplications([{ id: "nope", compartmentId: OPS, displayName: "x" }]),
    ).rejects.toThrow(/applications\[0\]\.id must be an application OCID/);
    await expect(
      emu.admin.registerApplications([
        { id: "ocid1.fnapp.oc1.iad.dupe", compartmentId: OPS, displayName: "power-app" },
      ]),
    ).rejects.toThrow(/both named "power-app"/);
  });
});

describe("invoke with is-dry-run: true", () => {
  it("answers without executing the function", async () => {
    const client = invokeClient(emu.url);
    // NOT_BUILT's bundle does not exist: running it would fail with 502.
    const dry = await client.invokeFunction({
      functionId: NOT_BUILT,
      invokeFunctionBody: "{}",
      isDryRun: true,
      retryConfiguration: NO_RETRY,
    });
    expect(await readAll(dry.value)).toBe("");
    const real = await ociError(() =>
      client.invokeFunction({
        functionId: NOT_BUILT,
        invokeFunctionBody: "{}",
        retryConfiguration: NO_RETRY,
      }),
    );
    expect([real.statusCode, real.serviceCode]).toEqual([502, "FunctionInvokeContainerInitFailed"]);
  });
});

describe("application config changes", () => {
  it("re-registering an application restarts its functions with the new config", async () => {
    const call = async () => {
      const res = await invokeClient(emu.url).invokeFunction({
        functionId: THIRD,
        invokeFunctionBody: "{}",
        retryConfiguration: NO_RETRY,
      });
      return JSON.parse(await readAll(res.value)) as { shared: string; pid: number };
    };
    const first = await call();
    await emu.admin.registerApplications([
      { id: POWER_APP, compartmentId: OPS, displayName: "power-app", config: { SHARED: "changed" } },
    ]);
    const second = await call();
    expect([first.shared, second.shared]).toEqual(["from-app", "changed"]);
    expect(second.pid).not.toBe(first.pid);
  });
});
