/**
 * The one reader of endpoint configuration, for every service client (Compute, Compute Management,
 * Container Engine, Container Instances, Monitoring, Identity) and every region:
 *   1. OCI_ENDPOINT_TEMPLATE, e.g. http://127.0.0.1:8080/{region}: each region's calls go to the template
 *      with {region} replaced by the region's name (the multi-region emulator). It wins over the rest.
 *   2. the service's own key (e.g. OCI_COMPUTE_ENDPOINT), then OCI_ENDPOINT: one base URL for every
 *      region (the single-region emulator, a proxy).
 *   3. nothing configured: undefined, and the SDK derives the endpoint from the region
 *      (https://<service>.<region>.<realm domain>).
 * Pure (no SDK): the handler's cold path and the unit tests load it without the OCI SDK.
 */
import type { Env } from "./config.js";
import { PowerError } from "./errors.js";

export const ENDPOINT_TEMPLATE_KEY = "OCI_ENDPOINT_TEMPLATE";
export const ENDPOINT_KEY = "OCI_ENDPOINT";
const REGION_PLACEHOLDER = "{region}";

export interface ConfiguredEndpoint {
  /** The configuration key the URL came from (for error messages and logs). */
  key: string;
  /** The base URL, without a trailing slash. */
  url: string;
}

function bad(key: string, message: string): PowerError {
  return new PowerError("InvalidConfiguration", `configuration ${key} ${message}`);
}

function checkUrl(key: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.split(REGION_PLACEHOLDER).join("region"));
  } catch {
    throw bad(key, `is not a URL: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad(key, "must be an http(s) URL");
  return raw.replace(/\/+$/, "");
}

function templateOf(raw: string): string {
  if (!raw.includes(REGION_PLACEHOLDER)) {
    throw bad(ENDPOINT_TEMPLATE_KEY, "must contain {region}, e.g. http://127.0.0.1:8080/{region}");
  }
  return checkUrl(ENDPOINT_TEMPLATE_KEY, raw);
}

/**
 * The configured base URL of a service in a region, or undefined when nothing is configured (the SDK
 * then derives it from the region). serviceKeys: the service's own keys, most specific first
 * (OCI_ENDPOINT is always tried after them).
 */
export function configuredEndpoint(
  env: Env,
  serviceKeys: readonly string[],
  region: string,
): ConfiguredEndpoint | undefined {
  const template = env[ENDPOINT_TEMPLATE_KEY]?.trim();
  if (template) {
    const checked = templateOf(template);
    if (!region) throw bad(ENDPOINT_TEMPLATE_KEY, "needs a region, and the credentials carry none");
    return { key: ENDPOINT_TEMPLATE_KEY, url: checked.split(REGION_PLACEHOLDER).join(region) };
  }
  for (const key of [...serviceKeys, ENDPOINT_KEY]) {
    const value = env[key]?.trim();
    if (value) return { key, url: checkUrl(key, value) };
  }
  return undefined;
}
