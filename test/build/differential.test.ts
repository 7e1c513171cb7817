/**
 * The slimmed SDK in the bundles against the full one: the same probe (test/build/sdk-probe.ts) runs
 * once over oci-core/oci-common from node_modules and once as the built dist/sdk-probe.cjs (slimmed
 * exactly as the functions are, signing through the node:crypto shims), each against its own emulator
 * seeded identically, for each way of authenticating. Both emulators' call logs must show the same
 * method, path, query, signed header names and body for every call, and the parsed SDK results
 * (values and errors) must be equal.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CallRecord,
  type EmulatorState,
  ociConfigProfile,
  type RunningEmulator,
  startEmulator,
} from "../../emulator/src/index.js";
import { PROBE_BUNDLE, runProbe } from "./probe.js";
import type { ProbeResult, ProbeStep } from "./sdk-probe.js";

const TENANCY = "ocid1.tenancy.oc1..differential";
const COMPARTMENT = "ocid1.compartment.oc1..differential";
const id = (name: string) => `ocid1.instance.oc1.iad.${name}`;
const INSTANCES: Array<[string, string]> = [
  ["running-1", "RUNNING"],
  ["stopped-2", "STOPPED"],
  ["running-3", "RUNNING"],
  ["running-4", "RUNNING"],
  ["stopped-5", "STOPPED"],
];
const STATE: EmulatorState = {
  tenancyId: TENANCY,
  region: "us-ashburn-1",
  // OCI-like durations: nothing finishes moving while the probes run, so both see the same states.
  timeScale: 1,
  instances: INSTANCES.map(([name, lifecycleState]) => ({
    id: id(name),
    compartmentId: COMPARTMENT,
    displayName: name,
    lifecycleState: lifecycleState as "RUNNING",
    shape: "VM.Standard.E4.Flex",
    timeCreated: "2026-01-01T00:00:00.000Z",
    freeformTags: { Schedule: "office-hours" },
  })),
};

const PLAN: ProbeStep[] = [
  { op: "get", instanceId: id("running-1") },
  { op: "list", compartmentId: COMPARTMENT, limit: 2, pages: 5 },
  { op: "action", instanceId: id("stopped-2"), action: "START", retryToken: "diff-start-2" },
  { op: "action", instanceId: id("running-3"), action: "STOP", retryToken: "diff-stop-3" },
  { op: "action", instanceId: id("running-4"), action: "SOFTSTOP", retryToken: "diff-softstop-4" },
  // The same retry token again: the emulator replays the first answer.
  { op: "action", instanceId: id("stopped-2"), action: "START", retryToken: "diff-start-2" },
  // START on a STOPPING instance: 409 IncorrectState.
  { op: "action", instanceId: id("running-3"), action: "START", retryToken: "diff-conflict-3" },
  { op: "get", instanceId: id("missing") },
];

type Auth = "resource_principal" | "config_file" | "instance_principal";

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The env a probe authenticates with, set up in that probe's own emulator. */
async function authEnv(emu: RunningEmulator, auth: Auth): Promise<Record<string, string>> {
  switch (auth) {
    case "resource_principal": {
      const rp = await emu.admin.mintResourcePrincipal({ compartmentId: COMPARTMENT, tenancyId: TENANCY });
      return { ...rp.env, OCI_AUTH: auth };
    }
    case "config_file": {
      const key = await emu.admin.generateApiKey({ tenancyId: TENANCY });
      const dir = await mkdtemp(join(tmpdir(), "sdk-diff-"));
      temps.push(dir);
      const keyFile = join(dir, "key.pem");
      await writeFile(keyFile, key.privateKeyPem, { mode: 0o600 });
      await writeFile(join(dir, "config"), ociConfigProfile(key, keyFile), { mode: 0o600 });
      return { OCI_AUTH: auth, OCI_CONFIG_FILE: join(dir, "config"), OCI_CLI_PROFILE: "DEFAULT" };
    }
    case "instance_principal": {
      const ip = await emu.admin.createInstancePrincipal({ tenancyId: TENANCY, compartmentId: COMPARTMENT });
      return {
        OCI_AUTH: auth,
        OCI_METADATA_BASE_URL: ip.metadataBaseUrl,
        OCI_FEDERATION_ENDPOINT: ip.federationEndpoint,
      };
    }
  }
}

/** What must be equal between the two builds' calls (ids of principals, times, request ids are not). */
function comparable(call: CallRecord) {
  const body =
    call.operation === "FederateX509" && call.body
      ? // A fresh session key per process: compare the fields sent, not their values.
        { fields: Object.keys(JSON.parse(call.body) as object).sort() }
      : call.body;
  return {
    method: call.method,
    path: call.path,
    query: call.query,
    signedHeaders: call.signedHeaders,
    body,
    operation: call.operation,
    status: call.status,
    serviceCode: call.serviceCode,
    retryToken: call.retryToken,
    replayed: call.replayed,
  };
}

async function runBuild(build: "full" | "bundle", auth: Auth) {
  const emu = await startEmulator({ state: structuredClone(STATE) });
  try {
    const env = await authEnv(emu, auth);
    const out = (await runProbe(build, "ops", {
      ...env,
      PROBE_ENDPOINT: emu.url,
      PROBE_PLAN: JSON.stringify(PLAN),
    })) as { results: ProbeResult[] };
    const { calls } = await emu.admin.calls();
    return { results: out.results, calls: calls.map(comparable) };
  } finally {
    await emu.close();
  }
}

describe("the bundle's slimmed SDK and the full SDK make the same calls and parse the same answers", () => {
  it("the probe bundle is built", () => {
    expect(existsSync(PROBE_BUNDLE), `${PROBE_BUNDLE} is missing: run \`npm run build\``).toBe(true);
  });

  it.each<Auth>(["resource_principal", "config_file", "instance_principal"])("signed as %s", async (auth) => {
    const [full, bundle] = await Promise.all([runBuild("full", auth), runBuild("bundle", auth)]);

    expect(bundle.calls).toEqual(full.calls);
    expect(bundle.results).toEqual(full.results);

    // What the plan exercised, so that equality above is about something.
    const compute = full.calls.filter((c) => c.path.startsWith("/20160918/"));
    expect(
      compute.map((c) => `${c.method} ${c.operation} ${c.status}${c.replayed ? " replayed" : ""}`),
    ).toEqual([
      "GET GetInstance 200",
      "GET ListInstances 200",
      "GET ListInstances 200",
      "GET ListInstances 200",
      "POST InstanceAction 200",
      "POST InstanceAction 200",
      "POST InstanceAction 200",
      "POST InstanceAction 200 replayed",
      "POST InstanceAction 409",
      "GET GetInstance 404",
    ]);
    expect(compute[1]?.query).toBe(`compartmentId=${encodeURIComponent(COMPARTMENT)}&limit=2`);
    expect(compute[4]).toMatchObject({
      query: "action=START",
      retryToken: "diff-start-2",
      signedHeaders: [
        "x-date",
        "(request-target)",
        "host",
        "Content-Type",
        "Content-Length",
        "x-content-sha256",
      ],
    });
    expect(compute[0]?.signedHeaders).toEqual(["x-date", "(request-target)", "host"]);
    const byStep = new Map(full.results.map((r) => [r.step, r]));
    expect(byStep.get(2)?.value).toMatchObject({ instance: { lifecycleState: "STARTING" } });
    expect(byStep.get(4)?.value).toMatchObject({ instance: { lifecycleState: "STOPPING" } });
    expect(byStep.get(6)?.error).toMatchObject({
      isOciError: true,
      statusCode: 409,
      serviceCode: "IncorrectState",
    });
    expect(byStep.get(7)?.error).toMatchObject({
      isOciError: true,
      statusCode: 404,
      serviceCode: "NotAuthorizedOrNotFound",
    });
    const pages = byStep.get(1)?.value as Array<{ items: Array<{ id: string }> }>;
    expect(pages.flatMap((p) => p.items.map((i) => i.id)).sort()).toEqual(
      INSTANCES.map(([n]) => id(n)).sort(),
    );
  });
});
