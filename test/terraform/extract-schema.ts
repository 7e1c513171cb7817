/**
 * Writes the part of the oracle/oci provider's schema (`terraform providers schema -json`) that the
 * schema test needs, so CI checks terraform/ against the real provider without downloading it:
 * the provider block, every resource and data source terraform/ uses, and the whole of the smaller
 * services it may use next; descriptions are dropped (they are most of the size).
 *
 *   npx tsx test/terraform/extract-schema.ts <full-schema.json> <version>
 *
 * writes test/terraform/schemas/oracle-oci-<version>.json. The full schemas for 7.32.0 and 8.28.0
 * came from the provider built from source (see docs/operations.md, "Terraform checks").
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadTerraform, repoRoot } from "./hcl.js";
import { PROVIDER_KEY } from "./provider-schema.js";

const WHOLE_SERVICES = [
  "oci_functions_",
  "oci_logging_",
  "oci_artifacts_",
  "oci_ons_",
  "oci_monitoring_",
  "oci_events_",
  "oci_resource_scheduler_",
  "oci_objectstorage_namespace",
];

function stripDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDescriptions);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Documentation strings only: an attribute named "description" is a schema object and stays.
    if ((k === "description" || k === "description_kind") && typeof v === "string") continue;
    out[k] = stripDescriptions(v);
  }
  return out;
}

async function main(): Promise<void> {
  const [input, version] = process.argv.slice(2);
  if (!input || !version || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error("usage: extract-schema.ts <full-schema.json> <version, e.g. 8.28.0>");
  }
  const full = JSON.parse(readFileSync(input, "utf8")) as {
    provider_schemas: Record<string, Record<string, Record<string, unknown>>>;
  };
  const provider = full.provider_schemas[PROVIDER_KEY];
  if (!provider) throw new Error(`${input}: no ${PROVIDER_KEY} in provider_schemas`);
  const config = await loadTerraform();
  const pick = (kind: "resource_schemas" | "data_source_schemas", used: string[]) => {
    const all = provider[kind] ?? {};
    const out: Record<string, unknown> = {};
    for (const type of Object.keys(all).sort()) {
      if (used.includes(type) || WHOLE_SERVICES.some((p) => type.startsWith(p))) out[type] = all[type];
    }
    return out;
  };
  const extract = {
    format_version: "1.0",
    provider_schemas: {
      [PROVIDER_KEY]: {
        provider: provider.provider,
        resource_schemas: pick("resource_schemas", Object.keys(config.resources)),
        data_source_schemas: pick("data_source_schemas", Object.keys(config.data)),
      },
    },
  };
  const out = join(repoRoot, "test/terraform/schemas", `oracle-oci-${version}.json`);
  writeFileSync(out, `${JSON.stringify(stripDescriptions(extract))}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
