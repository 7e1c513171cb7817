/**
 * Bad input of every class, the guardrail, authentication (resource principal failures, instance
 * principal through the emulator's metadata and federation endpoints) and secret-free logs,
 * all through the built bundles.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ociConfigProfile } from "../../emulator/src/index.js";
import { useWorld } from "../helpers/world.js";

const DEV = "ocid1.compartment.oc1..dev";
const PROD = "ocid1.compartment.oc1..prod";
const SOME = "ocid1.instance.oc1.iad.aaaa1";

const world = useWorld({ timeScale: 0.01 });

describe("bad input → 400 InvalidParameter naming the field, no call to OCI, process alive", () => {
  const cases: [string, string, RegExp][] = [
    ["empty body", "", /body is empty/],
    ["not JSON", "instance_id=ocid1.instance", /not valid JSON/],
    // A JSON array is a Connector Hub batch (issue 15): an empty one, or one without messages, is refused whole.
    ["empty JSON array", "[]", /empty array; a Connector Hub batch carries at least one message/],
    ["JSON array of no messages", "[1, 2]", /no element is a Connector Hub message/],
    ["JSON null", "null", /must be a JSON object/],
    ["no target", "{}", /exactly one of instance_id, instance_ids, target_id, target_ids, compartment_id/],
    ["both targets", JSON.stringify({ instance_id: SOME, compartment_id: DEV }), /use exactly one/],
    ["near-miss key", JSON.stringify({ instanceId: SOME }), /did you mean "instance_id"/],
    ["unknown key", JSON.stringify({ instance_id: SOME, colour: "red" }), /unknown key "colour"/],
    ["__proto__", `{"instance_id":"${SOME}","__proto__":{"x":1}}`, /unknown key "__proto__"/],
    ["wrong type", JSON.stringify({ instance_id: 12 }), /instance_id must be an instance OCID string/],
    ["malformed OCID", JSON.stringify({ instance_id: "my-vm" }), /does not start with "ocid1\."/],
    ["OCID of another type", JSON.stringify({ instance_id: "ocid1.vcn.oc1.iad.aaaa" }), /OCID of a vcn/],
    ["empty list", JSON.stringify({ instance_ids: [] }), /instance_ids is empty/],
    ["duplicates", JSON.stringify({ instance_ids: [SOME, SOME] }), /repeats instance_ids\[0\]/],
    [
      "too many ids",
      JSON.stringify({
        instance_ids: Array.from({ length: 1001 }, (_, i) => `ocid1.instance.oc1.iad.a${i}`),
      }),
      /at most 1000/,
    ],
    ["huge body", JSON.stringify({ instance_id: "x".repeat(400_000) }), /at most 262144 bytes/],
    ["bad wait", JSON.stringify({ instance_id: SOME, wait: "yes" }), /wait must be true or false/],
    ["bad timeout", JSON.stringify({ instance_id: SOME, timeout_seconds: -1 }), /timeout_seconds/],
    [
      "action on start-compute",
      JSON.stringify({ instance_id: SOME, action: "STOP" }),
      /only accepted by stop-compute/,
    ],
  ];

  it.each(cases)("%s", async (_name, body, expected) => {
    const { next } = await world.emu.admin.calls();
    const res = await world.call(world.start, body);
    expect(res.status).toBe(200);
    expect(res.gatewayStatus).toBe(400);
    expect(res.body).toMatchObject({
      ok: false,
      error: { code: "InvalidParameter", message: expect.stringMatching(expected) },
    });
    expect(res.body.results).toBeUndefined();
    expect((await world.emu.admin.calls(next)).calls).toEqual([]);
    expect(world.start.alive).toBe(true);
  });

  it("stop-compute: a bad action names the accepted values", async () => {
    const res = await world.call(world.stop, { instance_id: SOME, action: "HALT" });
    expect(res.body.error?.message).toMatch(/"SOFTSTOP".*"STOP"/);
  });
});

describe("guardrail: ALLOWED_COMPARTMENT_IDS", () => {
  it("refuses a compartment outside the list with 403 before any call; fails outside instances as Forbidden", async () => {
    const guarded = await world.fn("stop", { ALLOWED_COMPARTMENT_IDS: DEV });
    const [inside, outside] = await world.emu.admin.putInstances([
      { compartmentId: DEV, lifecycleState: "RUNNING" },
      { compartmentId: PROD, lifecycleState: "RUNNING" },
    ]);
    const { next } = await world.emu.admin.calls();
    const refused = await world.call(guarded, { compartment_id: PROD });
    expect(refused.gatewayStatus).toBe(403);
    expect(refused.body).toMatchObject({
      ok: false,
      error: { code: "Forbidden", message: expect.stringMatching(/ALLOWED_COMPARTMENT_IDS/) },
    });
    expect((await world.emu.admin.calls(next)).calls).toEqual([]);

    const mixed = await world.call(guarded, { instance_ids: [inside?.id, outside?.id], action: "STOP" });
    expect(mixed.body.results).toMatchObject([
      { instance_id: inside?.id, outcome: "changed" },
      { instance_id: outside?.id, outcome: "failed", error: { code: "Forbidden" } },
    ]);
    const { calls } = await world.emu.admin.calls(next);
    expect(calls.filter((c) => c.operation === "InstanceAction" && c.instanceId === outside?.id)).toEqual([]);
    expect((await world.emu.admin.getInstance(outside?.id ?? "")).lifecycleState).toBe("RUNNING");
  });
});

describe("authentication", () => {
  it("instance principal (OCI_AUTH=instance_principal) through the emulator's metadata and federation endpoints", async () => {
    const [target] = await world.emu.admin.putInstances([{ compartmentId: DEV, lifecycleState: "STOPPED" }]);
    const ip = await world.emu.admin.createInstancePrincipal({ compartmentId: DEV });
    const fn = await world.fn("start", {
      OCI_AUTH: "instance_principal",
      OCI_METADATA_BASE_URL: ip.metadataBaseUrl,
      OCI_FEDERATION_ENDPOINT: ip.federationEndpoint,
      OCI_RESOURCE_PRINCIPAL_VERSION: "",
    });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(fn, { instance_id: target?.id });
    expect(res.body).toMatchObject({ ok: true, results: [{ outcome: "changed" }] });
    const { calls } = await world.emu.admin.calls(next);
    expect(calls.find((c) => c.operation === "InstanceAction")?.principal).toBe(ip.principalId);
  });

  it("config file (local runs): found through OCI_CONFIG_FILE and OCI_CLI_PROFILE, signed with an API key", async () => {
    const key = await world.emu.admin.generateApiKey();
    const dir = mkdtempSync(join(tmpdir(), "oci-config-"));
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
    const config = join(dir, "config");
    writeFileSync(
      config,
      [
        "[DEFAULT]",
        "user=ocid1.user.oc1..nobody",
        "fingerprint=00:00",
        `tenancy=${key.tenancyId}`,
        `region=${key.region}`,
        `key_file=${keyFile}`,
        "",
        ociConfigProfile(key, keyFile, { profile: "EMULATOR" }),
      ].join("\n"),
    );
    const [target] = await world.emu.admin.putInstances([{ compartmentId: DEV, lifecycleState: "RUNNING" }]);
    const noPrincipal = {
      OCI_RESOURCE_PRINCIPAL_VERSION: "",
      OCI_RESOURCE_PRINCIPAL_RPST: "",
      OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: "",
    };
    const fn = await world.fn("stop", {
      ...noPrincipal,
      OCI_CONFIG_FILE: config,
      OCI_CLI_PROFILE: "EMULATOR",
    });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(fn, { instance_id: target?.id, action: "STOP" });
    expect(res.body).toMatchObject({ ok: true, results: [{ outcome: "changed" }] });
    const { calls } = await world.emu.admin.calls(next);
    expect(calls.find((c) => c.operation === "InstanceAction")?.principal).toBe(key.keyId);

    const missing = await world.fn("stop", {
      ...noPrincipal,
      OCI_AUTH: "config_file",
      OCI_CONFIG_FILE: join(dir, "nope"),
    });
    const refused = await world.call(missing, { instance_id: target?.id });
    expect(refused.body).toMatchObject({
      ok: false,
      error: {
        code: "AuthenticationFailed",
        message: expect.stringMatching(/does not exist \(set OCI_CONFIG_FILE/),
      },
    });
  });

  it("a principal limited to other compartments sees NotAuthorizedOrNotFound", async () => {
    const rp = await world.emu.admin.mintResourcePrincipal({ compartmentId: DEV, compartments: [DEV] });
    const fn = await world.fn("start", rp.env);
    const [other] = await world.emu.admin.putInstances([{ compartmentId: PROD, lifecycleState: "STOPPED" }]);
    const res = await world.call(fn, { instance_id: other?.id });
    expect(res.body).toMatchObject({
      ok: false,
      results: [{ outcome: "failed", error: { code: "NotAuthorizedOrNotFound" } }],
    });
  });

  it("missing resource-principal variables: a structured AuthenticationFailed naming them, process alive", async () => {
    const fn = await world.fn("start", {
      OCI_RESOURCE_PRINCIPAL_RPST: "",
      OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: "",
    });
    const res = await world.call(fn, { instance_id: SOME });
    expect(res.gatewayStatus).toBe(502);
    expect(res.body).toMatchObject({
      ok: false,
      error: {
        code: "AuthenticationFailed",
        message: expect.stringMatching(/OCI_RESOURCE_PRINCIPAL_RPST, OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM/),
      },
    });
    expect(fn.alive).toBe(true);
  });

  it("an expired RPST: OCI's 401 becomes AuthenticationFailed per instance", async () => {
    const rp = await world.emu.admin.mintResourcePrincipal({ compartmentId: DEV, ttlSeconds: -60 });
    const fn = await world.fn("start", rp.env);
    const [i] = await world.emu.admin.putInstances([{ compartmentId: DEV, lifecycleState: "STOPPED" }]);
    const res = await world.call(fn, { instance_id: i?.id });
    expect(res.body).toMatchObject({
      ok: false,
      results: [{ outcome: "failed", error: { code: "AuthenticationFailed", status: 401 } }],
    });
  });

  it("no key material, token or RPST in any log line", async () => {
    const secrets = [
      world.env.OCI_RESOURCE_PRINCIPAL_RPST ?? "",
      world.env.OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM ?? "",
    ];
    expect(world.logs.length).toBeGreaterThan(10);
    const all = world.logs.join("\n");
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(50);
      expect(all).not.toContain(secret.slice(0, 60));
      // The middle of a PEM (base64 body) or the RPST payload must not appear either.
      expect(all).not.toContain(
        secret.slice(Math.floor(secret.length / 2), Math.floor(secret.length / 2) + 40),
      );
    }
    expect(all).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
    // One JSON object per line, nothing else (the SDK prints nothing of its own).
    for (const line of world.logs.filter((l) => l.trim() !== "")) {
      expect(() => JSON.parse(line), line).not.toThrow();
    }
  });
});
