/**
 * The Compute endpoint the functions derive from their region when OCI_COMPUTE_ENDPOINT is not set
 * (every other test sets it). Oracle documents the Core Services endpoint as
 * https://iaas.<region>.<realm domain> (API reference, "Core Services API" endpoints; realm domains in
 * "Regions and Availability Domains"). The probe builds the functions' own client
 * (createComputeClient) as a resource principal in each region and captures the URL of a GetInstance
 * through an injected transport (the endpoint getter still holds an unresolved template): nothing is
 * sent. Checked for both the full SDK and the bundle's slimmed one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/src/index.js";
import { runProbe } from "./probe.js";

/** Region (or its short code, as OCI_RESOURCE_PRINCIPAL_REGION may carry) -> documented endpoint. */
const DOCUMENTED: Record<string, string> = {
  "us-ashburn-1": "https://iaas.us-ashburn-1.oraclecloud.com", // oc1
  "eu-frankfurt-1": "https://iaas.eu-frankfurt-1.oraclecloud.com", // oc1
  iad: "https://iaas.us-ashburn-1.oraclecloud.com", // short code
  phx: "https://iaas.us-phoenix-1.oraclecloud.com", // short code
  "us-langley-1": "https://iaas.us-langley-1.oraclegovcloud.com", // oc2
  "us-gov-ashburn-1": "https://iaas.us-gov-ashburn-1.oraclegovcloud.com", // oc3
  "uk-gov-london-1": "https://iaas.uk-gov-london-1.oraclegovcloud.uk", // oc4
  "ap-chiyoda-1": "https://iaas.ap-chiyoda-1.oraclecloud8.com", // oc8
  "me-dcc-muscat-1": "https://iaas.me-dcc-muscat-1.oraclecloud9.com", // oc9
  "ap-dcc-canberra-1": "https://iaas.ap-dcc-canberra-1.oraclecloud10.com", // oc10
  "eu-dcc-milan-1": "https://iaas.eu-dcc-milan-1.oraclecloud14.com", // oc14
  "eu-madrid-2": "https://iaas.eu-madrid-2.oraclecloud.eu", // oc19
  "eu-jovanovac-1": "https://iaas.eu-jovanovac-1.oraclecloud20.com", // oc20
};

const INSTANCE = "ocid1.instance.oc1.iad.endpoint";
let emu: RunningEmulator;
let rpEnv: Record<string, string>;
beforeAll(async () => {
  // Only to mint a resource principal (RPST and key); the probe never calls it.
  emu = await startEmulator({});
  rpEnv = (await emu.admin.mintResourcePrincipal({ compartmentId: emu.tenancyId })).env;
});
afterAll(async () => {
  await emu.close();
});

describe("the Compute endpoint derived from the region, without OCI_COMPUTE_ENDPOINT", () => {
  it.each(["full", "bundle"] as const)("is what OCI documents for every realm (%s SDK)", async (build) => {
    const { calls: before } = await emu.admin.calls();
    const out = (await runProbe(build, "endpoints", {
      ...rpEnv,
      PROBE_REGIONS: Object.keys(DOCUMENTED).join(","),
      PROBE_INSTANCE_ID: INSTANCE,
    })) as { endpoints: Record<string, string> };
    const expected = Object.fromEntries(
      Object.entries(DOCUMENTED).map(([region, url]) => [region, `${url}/20160918/instances/${INSTANCE}`]),
    );
    expect(out.endpoints).toEqual(expected);
    expect((await emu.admin.calls()).calls.length).toBe(before.length);
  });
});
