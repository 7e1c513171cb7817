/**
 * terraform/ against the real oracle/oci provider schemas (7.32.0 and 8.28.0, the newest 7.x and 8.x
 * the version constraint admits), plus broken copies showing that the check catches a misspelt, a
 * missing required, a deprecated and a computed-only argument, and a block given too often.
 */
import { describe, expect, it } from "vitest";
import { type JsonObject, loadTerraform } from "./hcl.js";
import {
  ACCEPTED_DEPRECATIONS,
  checkBlock,
  checkConfig,
  loadProviderSchema,
  NOT_IN_HELD_SCHEMAS,
  PROVIDER_VERSIONS,
} from "./provider-schema.js";

const META = new Set(["count", "for_each", "depends_on", "provider", "lifecycle"]);

describe.each(PROVIDER_VERSIONS)("terraform/ against the oracle/oci %s schema", (version) => {
  const schema = loadProviderSchema(version);

  it("uses only arguments and blocks the provider has, sets the required ones, nothing deprecated", async () => {
    const config = await loadTerraform();
    expect(checkConfig(config, schema)).toEqual([]);
    // It did walk something: every resource and data source type is known to the schema.
    expect(Object.keys(config.resources).length).toBeGreaterThan(10);
  });

  it("skips only the types this schema really lacks, and only while it lacks them", () => {
    for (const type of NOT_IN_HELD_SCHEMAS) expect(schema.resources[type]).toBeUndefined();
  });

  it("fails a broken copy of the management instance, naming each fault", async () => {
    const config = await loadTerraform();
    const instance = structuredClone(config.resources.oci_core_instance?.management) as JsonObject;
    const block = schema.resources.oci_core_instance;
    if (!instance || !block) throw new Error("oci_core_instance.management or its schema is missing");
    instance.availablity_domain = instance.availability_domain ?? "x"; // misspelt
    delete instance.compartment_id; // required
    instance.image = "ocid1.image.oc1..x"; // deprecated in favour of source_details
    instance.time_created = "2026-01-01T00:00:00Z"; // computed-only
    const sourceDetails = instance.source_details;
    if (!Array.isArray(sourceDetails)) throw new Error("management has no source_details block");
    instance.source_details = [...sourceDetails, ...sourceDetails]; // max_items 1
    expect(checkBlock(instance, block, "oci_core_instance.management", META).sort()).toEqual(
      [
        "oci_core_instance.management.availablity_domain: no such argument or block",
        "oci_core_instance.management.compartment_id: required, not set",
        "oci_core_instance.management.image: deprecated",
        "oci_core_instance.management.source_details: 2 blocks, at most 1 allowed",
        "oci_core_instance.management.time_created: computed-only (the provider sets it; it cannot be an argument)",
      ].sort(),
    );
  });

  it("fails a misspelt nested argument, a block written as an argument, and a missing required block", async () => {
    const config = await loadTerraform();
    const repo = structuredClone(config.resources.oci_artifacts_container_repository?.function) as JsonObject;
    const block = schema.resources.oci_artifacts_container_repository;
    if (!repo || !block)
      throw new Error("oci_artifacts_container_repository.function or its schema is missing");
    repo.readme = { content: "x", formt: "TEXT_PLAIN" };
    expect(checkBlock(repo, block, "repo", META)).toContain(
      "repo.readme: is a block; write readme { … }, not readme = …",
    );
    repo.readme = [{ content: "x", formt: "TEXT_PLAIN" }];
    expect(checkBlock(repo, block, "repo", META).sort()).toEqual(
      ["repo.readme.formt: no such argument or block", "repo.readme.format: required, not set"].sort(),
    );
    const log = structuredClone(config.resources.oci_logging_log?.functions_invoke) as JsonObject;
    const logBlock = schema.resources.oci_logging_log;
    if (!log || !logBlock) throw new Error("oci_logging_log.functions_invoke or its schema is missing");
    log.configuration = [{ compartment_id: "x" }];
    expect(checkBlock(log, logBlock, "log", META)).toEqual([
      "log.configuration.source: required block, not set",
    ]);
  });
});

describe("accepted deprecations", () => {
  it("are still deprecated in 8.28.0 (the exception goes once the provider un-deprecates the block)", () => {
    const block = loadProviderSchema("8.28.0").resources.oci_events_rule;
    const nested = block?.block_types?.actions?.block.block_types?.actions;
    expect(nested?.block.deprecated).toBe(true);
    expect([...ACCEPTED_DEPRECATIONS.keys()]).toEqual(["oci_events_rule.example.actions.actions"]);
  });
});
