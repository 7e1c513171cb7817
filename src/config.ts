/**
 * Function configuration, read from ctx.config (function/application config, which also arrive
 * as env vars) and validated once per invocation. A bad value names its key.
 */
import { PowerError } from "./errors.js";
import { checkOcid } from "./ocid.js";
import {
  type BillingConfig,
  type OverrideConfig,
  readBillingConfig,
  readOverrideConfig,
} from "./override.js";

export type AuthMode = "resource_principal" | "instance_principal" | "config_file";
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface FunctionConfig {
  /** undefined: no guardrail. */
  allowedCompartmentIds: ReadonlySet<string> | undefined;
  maxConcurrency: number;
  maxRate: number;
  logLevel: LogLevel;
  /** OVERRIDE_TAG_KEY, OVERRIDE_DEFINED_TAG, OVERRIDE_MAX_DAYS (undefined: the defaults). */
  override?: OverrideConfig;
  /** BILLED_WHEN_STOPPED (undefined: the default, stop and flag). */
  billing?: BillingConfig;
}

/** Function config / environment: every key a string or absent. The one Env type. */
export type Env = Record<string, string | undefined>;
/** Where configuration is read from (the same shape as Env). */
export type ConfigSource = Env;

function bad(key: string, message: string): PowerError {
  return new PowerError("InvalidConfiguration", `configuration ${key} ${message}`);
}

function positiveNumber(
  source: ConfigSource,
  key: string,
  fallback: number,
  max: number,
  integer: boolean,
): number {
  const raw = source[key]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    throw bad(
      key,
      `must be a ${integer ? "whole " : ""}number from 1 to ${max}, got ${JSON.stringify(raw.slice(0, 20))}`,
    );
  }
  return n;
}

export function readConfig(source: ConfigSource): FunctionConfig {
  let allowed: Set<string> | undefined;
  const rawAllowed = source.ALLOWED_COMPARTMENT_IDS;
  if (rawAllowed !== undefined && rawAllowed.trim() !== "") {
    allowed = new Set();
    for (const part of rawAllowed.split(",")) {
      const id = part.trim();
      if (id === "") continue;
      const check = checkOcid(id);
      if (!check.ok || (check.resourceType !== "compartment" && check.resourceType !== "tenancy")) {
        throw bad(
          "ALLOWED_COMPARTMENT_IDS",
          `must be a comma-separated list of compartment or tenancy OCIDs; ${JSON.stringify(id.slice(0, 60))} is not one`,
        );
      }
      allowed.add(id);
    }
  }
  const level = (source.LOG_LEVEL ?? "info").trim().toLowerCase() || "info";
  if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
    throw bad("LOG_LEVEL", `must be debug, info, warn or error, got ${JSON.stringify(level.slice(0, 20))}`);
  }
  return {
    allowedCompartmentIds: allowed,
    maxConcurrency: positiveNumber(source, "POWER_MAX_CONCURRENCY", 16, 256, true),
    maxRate: positiveNumber(source, "POWER_MAX_RATE", 10, 1000, false),
    logLevel: level,
    override: readOverrideConfig(source),
    billing: readBillingConfig(source),
  };
}

export function readAuthMode(source: ConfigSource): AuthMode | undefined {
  const raw = source.OCI_AUTH?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  if (raw === "resource_principal" || raw === "instance_principal" || raw === "config_file") return raw;
  throw new PowerError(
    "InvalidConfiguration",
    `configuration OCI_AUTH must be resource_principal, instance_principal or config_file, got ${JSON.stringify(raw.slice(0, 30))}`,
  );
}
