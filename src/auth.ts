/**
 * Chooses how the functions authenticate to OCI, in one place:
 * resource principal v2.2 when OCI_RESOURCE_PRINCIPAL_VERSION is set (inside OCI Functions, no
 * fallback), else an OCI config file when one exists (local runs), else instance principal.
 * OCI_AUTH forces one. Failures become AuthenticationFailed naming what was tried and what to set;
 * messages are scrubbed of anything that looks like a key or a token.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  type AuthenticationDetailsProvider,
  ConfigFileAuthenticationDetailsProvider,
  InstancePrincipalsAuthenticationDetailsProviderBuilder,
  isRegionProvider,
  type Region,
  ResourcePrincipalAuthenticationDetailsProvider,
} from "oci-common";
import { type AuthMode, readAuthMode } from "./config.js";
import { PowerError } from "./errors.js";
import { scrubSecrets } from "./log.js";
import { regionByKeyOrName } from "./region-table.js";

export { scrubSecrets };

export type Env = Record<string, string | undefined>;

export interface AuthChoice {
  provider: AuthenticationDetailsProvider;
  mode: AuthMode;
  /** The credentials' region (the function's home region); undefined when none is known. */
  region?: Region | undefined;
}

const DEFAULT_METADATA_BASE_URL = "http://169.254.169.254/opc/v2/";

/**
 * The instance's region when the SDK did not read it: it does so only while it looks up the
 * federation endpoint itself, so with OCI_FEDERATION_ENDPOINT set the region is read here, from the
 * same metadata service, under the same timeout.
 */
async function instanceRegion(metadataBase: string | undefined, signal: AbortSignal): Promise<Region> {
  const base = (metadataBase || DEFAULT_METADATA_BASE_URL).replace(/\/?$/, "/");
  const res = await fetch(`${base}instance/region`, { headers: { authorization: "Bearer Oracle" }, signal });
  const text = await res.text();
  // The metadata service names the region by key (iad) or by name (us-ashburn-1).
  const region = res.ok ? regionByKeyOrName(text.trim().toLowerCase()) : undefined;
  if (!region) throw new Error(`the metadata service named no region this SDK knows (HTTP ${res.status})`);
  return region;
}

const INSTANCE_PRINCIPAL_TIMEOUT_MS = 10_000;

function failure(message: string, cause?: unknown): PowerError {
  return new PowerError("AuthenticationFailed", scrubSecrets(message), cause === undefined ? {} : { cause });
}

function causeText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === "object" && "message" in error) return String(error.message);
  return String(error);
}

function configFilePath(env: Env): string {
  return env.OCI_CONFIG_FILE?.trim() || join(homedir(), ".oci", "config");
}

function resourcePrincipal(env: Env): AuthenticationDetailsProvider {
  const version = env.OCI_RESOURCE_PRINCIPAL_VERSION?.trim();
  if (version !== "2.2") {
    throw failure(
      version
        ? `resource principal: OCI_RESOURCE_PRINCIPAL_VERSION is ${JSON.stringify(version.slice(0, 10))}; only 2.2 is supported`
        : "resource principal: OCI_RESOURCE_PRINCIPAL_VERSION is not set (OCI Functions sets it; set OCI_AUTH to use another method)",
    );
  }
  const missing = [
    "OCI_RESOURCE_PRINCIPAL_RPST",
    "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
    "OCI_RESOURCE_PRINCIPAL_REGION",
  ].filter((k) => !env[k]?.trim());
  if (missing.length > 0) {
    throw failure(`resource principal: ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not set`);
  }
  try {
    return ResourcePrincipalAuthenticationDetailsProvider.builder();
  } catch (error) {
    throw failure(
      `resource principal: the RPST or private key from OCI_RESOURCE_PRINCIPAL_* could not be used (${causeText(error)})`,
      error,
    );
  }
}

function configFile(env: Env): AuthenticationDetailsProvider {
  const path = configFilePath(env);
  const profile = env.OCI_CLI_PROFILE?.trim() || "DEFAULT";
  if (!existsSync(path)) {
    throw failure(`config file: ${path} does not exist (set OCI_CONFIG_FILE and OCI_CLI_PROFILE)`);
  }
  try {
    return new ConfigFileAuthenticationDetailsProvider(path, profile);
  } catch (error) {
    throw failure(
      `config file: profile ${profile} of ${path} could not be used (${causeText(error)})`,
      error,
    );
  }
}

async function instancePrincipal(env: Env): Promise<AuthChoice> {
  const builder = new InstancePrincipalsAuthenticationDetailsProviderBuilder();
  const metadata = env.OCI_METADATA_BASE_URL?.trim();
  const federation = env.OCI_FEDERATION_ENDPOINT?.trim();
  if (metadata) builder.metadataBaseUrl = metadata;
  if (federation) builder.federationEndpoint = federation;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${INSTANCE_PRINCIPAL_TIMEOUT_MS / 1000} s`)),
      INSTANCE_PRINCIPAL_TIMEOUT_MS,
    );
  });
  const controller = new AbortController();
  try {
    const provider = await Promise.race([builder.build(), timeout]);
    const known = isRegionProvider(provider) ? provider.getRegion() : undefined;
    const region = known ?? (await Promise.race([instanceRegion(metadata, controller.signal), timeout]));
    return { provider, mode: "instance_principal", region };
  } catch (error) {
    throw failure(
      `instance principal: the metadata service (${metadata || "default"}) or federation endpoint (${federation || "from the region"}) failed (${causeText(error)})`,
      error,
    );
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** The provider's own region (resource principal, config file). */
function choice(provider: AuthenticationDetailsProvider, mode: AuthMode): AuthChoice {
  return { provider, mode, region: isRegionProvider(provider) ? provider.getRegion() : undefined };
}

export async function createAuthProvider(env: Env): Promise<AuthChoice> {
  const forced = readAuthMode(env);
  if (forced === "resource_principal") return choice(resourcePrincipal(env), forced);
  if (forced === "config_file") return choice(configFile(env), forced);
  if (forced === "instance_principal") return await instancePrincipal(env);

  if (env.OCI_RESOURCE_PRINCIPAL_VERSION?.trim()) {
    return choice(resourcePrincipal(env), "resource_principal");
  }
  const path = configFilePath(env);
  if (existsSync(path)) return choice(configFile(env), "config_file");
  try {
    return await instancePrincipal(env);
  } catch (error) {
    throw failure(
      `no OCI credentials: OCI_RESOURCE_PRINCIPAL_VERSION is not set (resource principal, set inside OCI Functions); ` +
        `no config file at ${path} (set OCI_CONFIG_FILE and OCI_CLI_PROFILE); ` +
        `${causeText(error)}. Set OCI_AUTH to resource_principal, config_file or instance_principal to choose one`,
      error,
    );
  }
}

let shared: { key: string; choice: Promise<AuthChoice> } | undefined;

/** The env keys that decide which credentials are used (the cache key of sharedAuthProvider). */
const AUTH_KEYS = [
  "OCI_AUTH",
  "OCI_RESOURCE_PRINCIPAL_VERSION",
  "OCI_RESOURCE_PRINCIPAL_RPST",
  "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM",
  "OCI_RESOURCE_PRINCIPAL_REGION",
  "OCI_CONFIG_FILE",
  "OCI_CLI_PROFILE",
  "OCI_METADATA_BASE_URL",
  "OCI_FEDERATION_ENDPOINT",
];

/**
 * One auth provider per process for every service the function calls (Compute, Monitoring), so an
 * instance principal's token is fetched once and every request is signed by the same principal.
 * A failed setup is forgotten, so the next invocation tries again.
 */
export function sharedAuthProvider(env: Env): Promise<AuthChoice> {
  const key = JSON.stringify(AUTH_KEYS.map((k) => env[k] ?? null));
  if (shared?.key === key) return shared.choice;
  const choice = createAuthProvider(env);
  const entry = { key, choice };
  shared = entry;
  choice.catch(() => {
    if (shared === entry) shared = undefined;
  });
  return choice;
}
