/**
 * The OCI adapter of RegionalCompute: one KindRouter (instances and every other kind) per region,
 * made on first use and kept for the process, all signing with the one principal (resource principal,
 * instance principal or API key: OCI accepts the same tokens in every region of the realm). Regions
 * come from the SDK's table (region-table.ts), so an unknown key costs no call.
 */
import type { AuthenticationDetailsProvider, Region } from "oci-common";
import type { ComputePort } from "./compute.js";
import type { AuthMode, Env } from "./config.js";
import { configuredEndpoint } from "./endpoints.js";
import { ComputeError, PowerError } from "./errors.js";
import { callOci, RecordingHttpClient } from "./oci-compute.js";
import { regionByKeyOrName, regionByName } from "./region-table.js";
import type { RegionalCompute } from "./regions.js";

export interface RegionalContext {
  provider: AuthenticationDetailsProvider;
  mode: AuthMode;
  env: Env;
  /** The credentials' region (auth.ts); undefined: none known. */
  home: Region | undefined;
  /** The port of one region (the caller builds its clients for that SDK region). */
  makePort: (region: Region) => ComputePort;
}

/** The home region: the credentials' region (resource principal, config file, instance metadata). */
export function homeRegionOf(region: Region | undefined): Region {
  if (!region) {
    throw new PowerError(
      "InvalidConfiguration",
      "the credentials carry no region (OCI_RESOURCE_PRINCIPAL_REGION, the config file's region or the instance's)",
    );
  }
  return region;
}

/** The tenancy's OCID from the principal: the token's res_tenant claim, else the API key's tenancy. */
async function tenancyOf(provider: AuthenticationDetailsProvider): Promise<string> {
  const claims = provider as { getStringClaim?: (key: string) => Promise<string | null> };
  if (typeof claims.getStringClaim === "function") {
    const claimed = await claims.getStringClaim("res_tenant").catch(() => null);
    if (claimed) return claimed;
  }
  const keyed = provider as { getTenantId?: () => string };
  if (typeof keyed.getTenantId === "function") return keyed.getTenantId();
  throw new PowerError(
    "InvalidConfiguration",
    'the credentials do not name the tenancy (needed for regions: "all")',
  );
}

interface RegionSubscription {
  regionName?: unknown;
  status?: unknown;
}

/** Identity ListRegionSubscriptions, one signed GET (the oci-identity client for one call would add a package). */
async function listSubscriptions(c: RegionalContext, home: Region, signal: AbortSignal): Promise<string[]> {
  const tenancy = await tenancyOf(c.provider);
  const base =
    configuredEndpoint(c.env, ["OCI_IDENTITY_ENDPOINT"], home.regionId)?.url ??
    `https://identity.${home.regionId}.${home.realm.secondLevelDomain}`;
  const http = new RecordingHttpClient(c.provider);
  const uri = `${base}/20160918/tenancies/${encodeURIComponent(tenancy)}/regionSubscriptions`;
  const items = await callOci(signal, c.mode, async () => {
    const res = await http.send({ method: "GET", uri, headers: new Headers({ accept: "application/json" }) });
    return (await res.json()) as unknown;
  });
  if (!Array.isArray(items)) {
    throw new ComputeError("ServiceError", "ListRegionSubscriptions answered without a list", {
      transient: true,
    });
  }
  return (items as RegionSubscription[])
    .filter((s) => s.status === "READY" && typeof s.regionName === "string")
    .map((s) => s.regionName as string);
}

export function createRegionalCompute(c: RegionalContext, home: ComputePort): RegionalCompute {
  const homeRegion = homeRegionOf(c.home);
  const ports = new Map<string, ComputePort>([[homeRegion.regionId, home]]);
  return {
    homeRegion: homeRegion.regionId,
    regionOf: (realm, segment) => regionByKeyOrName(segment, realm)?.regionId,
    isRegion: (name) => regionByName(name) !== undefined,
    forRegion(name) {
      let port = ports.get(name);
      if (!port) {
        const region = regionByName(name);
        if (!region)
          throw new PowerError("InvalidParameter", `${JSON.stringify(name)} is not an OCI region name`);
        port = c.makePort(region);
        ports.set(name, port);
      }
      return port;
    },
    subscribedRegions: (signal) => listSubscriptions(c, homeRegion, signal),
  };
}
