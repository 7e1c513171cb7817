import { generateKeyPairSync } from "node:crypto";
import { exportJWK, SignJWT } from "jose";
import * as common from "oci-common";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningEmulator } from "../src/index.js";
import {
  apiKeyProvider,
  COMPARTMENT_A,
  COMPARTMENT_B,
  compute,
  emulator,
  NO_RETRY,
  ociError,
  signedFetch,
} from "./helpers.js";

let emu: RunningEmulator;
let instanceA: string;
let instanceB: string;

beforeAll(async () => {
  emu = await emulator();
  const [a, b] = await emu.admin.putInstances([
    { compartmentId: COMPARTMENT_A, displayName: "a", lifecycleState: "RUNNING" },
    { compartmentId: COMPARTMENT_B, displayName: "b", lifecycleState: "RUNNING" },
  ]);
  instanceA = a?.id ?? "";
  instanceB = b?.id ?? "";
});
afterAll(async () => await emu.close());
afterEach(() => vi.unstubAllEnvs());

function resourcePrincipalProvider(env: Record<string, string>): common.AuthenticationDetailsProvider {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  return common.ResourcePrincipalAuthenticationDetailsProvider.builder();
}

describe("API keys", () => {
  it("accepts a request signed with a registered key and logs the principal", async () => {
    const key = await emu.admin.generateApiKey();
    const client = compute(emu, apiKeyProvider(key));
    const res = await client.getInstance({ instanceId: instanceA });
    expect(res.instance.id).toBe(instanceA);
    expect(res.opcRequestId).toBeTruthy();
    expect(res.etag).toBeTruthy();
    const { calls } = await emu.admin.calls();
    expect(calls.at(-1)).toMatchObject({ operation: "GetInstance", principal: key.keyId, status: 200 });
  });

  it("accepts a key registered through addApiKey with its own keyId", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyId = `${emu.tenancyId}/ocid1.user.oc1..aaaaexplicit/12:34`;
    await emu.admin.addApiKey({
      keyId,
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
    const provider = new common.SimpleAuthenticationDetailsProvider(
      emu.tenancyId,
      "ocid1.user.oc1..aaaaexplicit",
      "12:34",
      privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      null,
      common.Region.US_ASHBURN_1,
    );
    const res = await compute(emu, provider).getInstance({ instanceId: instanceA });
    expect(res.instance.lifecycleState).toBe("RUNNING");
  });

  it("refuses a signature made with another key (bad signature) with 401 NotAuthenticated", async () => {
    const key = await emu.admin.generateApiKey();
    const other = await emu.admin.generateApiKey();
    const client = compute(emu, apiKeyProvider({ ...key, privateKeyPem: other.privateKeyPem }));
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceA, retryConfiguration: NO_RETRY }),
    );
    expect(err.statusCode).toBe(401);
    expect(err.serviceCode).toBe("NotAuthenticated");
    expect(err.opcRequestId).toBeTruthy();
  });

  it("refuses an unknown key with 401", async () => {
    const key = await emu.admin.generateApiKey();
    const client = compute(emu, apiKeyProvider({ ...key, fingerprint: "00:11:22" }));
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceA, retryConfiguration: NO_RETRY }),
    );
    expect([err.statusCode, err.serviceCode]).toEqual([401, "NotAuthenticated"]);
  });

  it("refuses a body that does not match x-content-sha256, and a skewed clock", async () => {
    const key = await emu.admin.generateApiKey();
    const tampered = await signedFetch(emu, key, "POST", `/20160918/instances/${instanceA}?action=STOP`, {
      body: "{}",
      bodyForHash: '{"other":1}',
    });
    expect(tampered.status).toBe(401);
    const skewed = await signedFetch(emu, key, "GET", `/20160918/instances/${instanceA}`, {
      date: new Date(Date.now() - 10 * 60_000),
    });
    expect(skewed.status).toBe(401);
    expect(skewed.json).toMatchObject({ code: "NotAuthenticated" });
    expect(skewed.headers.get("opc-request-id")).toBeTruthy();
  });

  it("refuses an unsigned request", async () => {
    const res = await fetch(`${emu.url}/20160918/instances/${instanceA}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "NotAuthenticated" });
  });

  it("limits a key to its compartments: elsewhere is 404 NotAuthorizedOrNotFound", async () => {
    const client = compute(
      emu,
      apiKeyProvider(await emu.admin.generateApiKey({ compartments: [COMPARTMENT_A] })),
    );
    expect((await client.getInstance({ instanceId: instanceA })).instance.id).toBe(instanceA);
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceB, retryConfiguration: NO_RETRY }),
    );
    expect([err.statusCode, err.serviceCode]).toEqual([404, "NotAuthorizedOrNotFound"]);
    const listErr = await ociError(() =>
      client.listInstances({ compartmentId: COMPARTMENT_B, retryConfiguration: NO_RETRY }),
    );
    expect(listErr.statusCode).toBe(404);
  });
});

describe("resource principal v2.2", () => {
  it("works with the exact env OCI Functions injects, limited to its compartments", async () => {
    const rp = await emu.admin.mintResourcePrincipal({
      compartmentId: COMPARTMENT_A,
      compartments: [COMPARTMENT_A],
    });
    expect(rp.env.OCI_RESOURCE_PRINCIPAL_VERSION).toBe("2.2");
    expect(rp.env.OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM).toContain("PRIVATE KEY");
    const provider = resourcePrincipalProvider(rp.env);
    const rpProvider = provider as common.ResourcePrincipalAuthenticationDetailsProvider;
    expect(await rpProvider.getStringClaim("res_compartment")).toBe(COMPARTMENT_A);
    expect(await rpProvider.getStringClaim("res_tenant")).toBe(emu.tenancyId);
    const client = compute(emu, provider);
    const res = await client.instanceAction({ instanceId: instanceA, action: "SOFTRESET" as never });
    expect(res.instance.lifecycleState).toBe("STOPPING");
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceB, retryConfiguration: NO_RETRY }),
    );
    expect(err.statusCode).toBe(404);
    const { calls } = await emu.admin.calls();
    expect(calls.at(-2)?.principal).toBe(rp.principalId);
  });

  it("refuses an expired token with 401", async () => {
    const rp = await emu.admin.mintResourcePrincipal({ compartmentId: COMPARTMENT_A, ttlSeconds: -60 });
    const client = compute(emu, resourcePrincipalProvider(rp.env));
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceA, retryConfiguration: NO_RETRY }),
    );
    expect([err.statusCode, err.serviceCode]).toEqual([401, "NotAuthenticated"]);
  });

  it("refuses a forged token (signed by another key) with 401", async () => {
    const session = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forger = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rpst = await new SignJWT({
      res_tenant: emu.tenancyId,
      res_compartment: COMPARTMENT_A,
      jwk: await exportJWK(session.publicKey),
    })
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer("oci-emulator")
      .setSubject("ocid1.fnfunc.oc1.iad.forged")
      .setExpirationTime("1h")
      .sign(forger.privateKey);
    const client = compute(
      emu,
      resourcePrincipalProvider({
        OCI_RESOURCE_PRINCIPAL_VERSION: "2.2",
        OCI_RESOURCE_PRINCIPAL_RPST: rpst,
        OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: session.privateKey
          .export({ type: "pkcs8", format: "pem" })
          .toString(),
        OCI_RESOURCE_PRINCIPAL_REGION: "us-ashburn-1",
      }),
    );
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceA, retryConfiguration: NO_RETRY }),
    );
    expect([err.statusCode, err.serviceCode]).toEqual([401, "NotAuthenticated"]);
  });

  it("refuses a genuine token used with a different session key with 401", async () => {
    const rp = await emu.admin.mintResourcePrincipal({ compartmentId: COMPARTMENT_A });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const client = compute(
      emu,
      resourcePrincipalProvider({
        ...rp.env,
        OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: other.privateKey
          .export({ type: "pkcs8", format: "pem" })
          .toString(),
      }),
    );
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceA, retryConfiguration: NO_RETRY }),
    );
    expect(err.statusCode).toBe(401);
  });
});

describe("instance principal", () => {
  async function instancePrincipalClient(compartments?: string[]) {
    const ip = await emu.admin.createInstancePrincipal({
      instanceId: "ocid1.instance.oc1.iad.aaaamanagement",
      compartmentId: COMPARTMENT_A,
      ...(compartments ? { compartments } : {}),
    });
    const builder = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
    builder.metadataBaseUrl = ip.metadataBaseUrl;
    builder.federationEndpoint = ip.federationEndpoint;
    return { ip, client: compute(emu, await builder.build()) };
  }

  it("federates through /v1/x509 with the metadata service's certificate and calls Compute", async () => {
    const { ip, client } = await instancePrincipalClient([COMPARTMENT_A]);
    const res = await client.getInstance({ instanceId: instanceA });
    expect(res.instance.id).toBe(instanceA);
    const err = await ociError(() =>
      client.getInstance({ instanceId: instanceB, retryConfiguration: NO_RETRY }),
    );
    expect(err.statusCode).toBe(404);
    const { calls } = await emu.admin.calls();
    const federations = calls.filter((c) => c.operation === "FederateX509");
    expect(federations.at(-1)).toMatchObject({ status: 200, principal: ip.principalId });
  });

  it("requires Authorization: Bearer Oracle on the metadata endpoints", async () => {
    const bare = await fetch(`${emu.url}/opc/v2/identity/cert.pem`);
    expect(bare.status).toBe(401);
    const ok = await fetch(`${emu.url}/opc/v2/instance/region`, {
      headers: { Authorization: "Bearer Oracle" },
    });
    expect(await ok.text()).toBe("us-ashburn-1");
  });

  it("refuses a federation request not signed by the certificate's key", async () => {
    const res = await fetch(`${emu.url}/v1/x509`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ certificate: "x", publicKey: "y", intermediateCertificates: [] }),
    });
    expect(res.status).toBe(401);
  });
});
