// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${...}" here is Terraform interpolation text, as hcl2json returns it
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getReferencesInExpression } from "@cdktf/hcl2json";
import { describe, expect, it } from "vitest";
import { isObject, type Json, type JsonObject, loadTerraform, terraformDir } from "./hcl.js";

/**
 * Arguments the oracle/oci provider requires, from its docs (website/docs/r|d/<name>.html.markdown),
 * plus the ones a working resource needs in practice (marked). Nested: "block.argument".
 * A resource type missing here fails the test: add its row when adding the resource.
 */
const REQUIRED_RESOURCE_ARGUMENTS: Record<string, string[]> = {
  oci_core_vcn: ["compartment_id", "cidr_blocks" /* in practice */],
  oci_core_default_security_list: ["manage_default_resource_id"],
  oci_core_nat_gateway: ["compartment_id", "vcn_id"],
  oci_core_service_gateway: ["compartment_id", "vcn_id", "services.service_id"],
  oci_core_internet_gateway: ["compartment_id", "vcn_id"],
  oci_core_route_table: ["compartment_id", "vcn_id", "route_rules.network_entity_id"],
  oci_core_security_list: [
    "compartment_id",
    "vcn_id",
    "ingress_security_rules.protocol",
    "ingress_security_rules.source",
    "egress_security_rules.protocol",
    "egress_security_rules.destination",
  ],
  oci_core_subnet: ["compartment_id", "vcn_id", "cidr_block"],
  oci_core_instance: [
    "availability_domain",
    "compartment_id",
    "shape" /* in practice */,
    "source_details.source_type",
    "source_details.source_id",
    "create_vnic_details.subnet_id",
  ],
  oci_artifacts_container_repository: ["compartment_id", "display_name", "readme.content", "readme.format"],
  oci_functions_application: ["compartment_id", "display_name", "subnet_ids"],
  oci_functions_function: ["application_id", "display_name", "memory_in_mbs"],
  oci_logging_log_group: ["compartment_id", "display_name"],
  oci_logging_log: [
    "display_name",
    "log_group_id",
    "log_type",
    "configuration.source.category",
    "configuration.source.resource",
    "configuration.source.service",
    "configuration.source.source_type",
  ],
  oci_identity_dynamic_group: ["compartment_id", "description", "matching_rule", "name"],
  oci_identity_policy: ["compartment_id", "description", "name", "statements"],
  // Built into Terraform (no provider): holds the cloud-init hash that replaces the management instance.
  terraform_data: ["input"],
  // Issue 15 (terraform/alerts.tf).
  oci_ons_notification_topic: ["compartment_id", "name"],
  oci_ons_subscription: ["compartment_id", "endpoint", "protocol", "topic_id"],
  oci_monitoring_alarm: [
    "compartment_id",
    "destinations",
    "display_name",
    "is_enabled",
    "metric_compartment_id",
    "namespace",
    "query",
    "severity",
  ],
  oci_events_rule: ["compartment_id", "display_name", "is_enabled", "actions.actions.action_type"],
  oci_queue_queue: ["compartment_id", "display_name"],
  oci_sch_service_connector: ["compartment_id", "display_name", "source.kind", "target.kind"],
};

const REQUIRED_DATA_ARGUMENTS: Record<string, string[]> = {
  oci_identity_availability_domains: ["compartment_id"],
  oci_core_images: ["compartment_id"],
  oci_core_services: [],
  oci_objectstorage_namespace: [],
  oci_identity_regions: [],
};

/** Blocks of `name` in a body: static ones and the content of dynamic ones. */
function blocks(body: JsonObject, name: string): JsonObject[] {
  const found: JsonObject[] = [];
  const direct = body[name];
  if (Array.isArray(direct)) for (const b of direct) if (isObject(b)) found.push(b);
  const dynamic = body.dynamic;
  if (isObject(dynamic)) {
    const d = dynamic[name];
    for (const block of Array.isArray(d) ? d : []) {
      const content = isObject(block) ? block.content : undefined;
      for (const c of Array.isArray(content) ? content : []) if (isObject(c)) found.push(c);
    }
  }
  return found;
}

/** Missing required arguments, as paths, for one resource body. */
function missingArguments(body: JsonObject, required: string[]): string[] {
  const missing: string[] = [];
  for (const path of required) {
    const segments = path.split(".");
    let level: JsonObject[] = [body];
    for (const [i, segment] of segments.entries()) {
      if (i === segments.length - 1) {
        for (const b of level) if (b[segment] === undefined || b[segment] === null) missing.push(path);
      } else {
        const next = level.flatMap((b) => blocks(b, segment));
        if (next.length === 0) missing.push(segments.slice(0, i + 1).join("."));
        level = next;
      }
    }
  }
  return [...new Set(missing)];
}

/** Every string in a value that holds an interpolation, with where it came from. */
function expressions(value: Json, where: string, out: Array<{ where: string; text: string }>): void {
  if (typeof value === "string") {
    if (value.includes("${")) out.push({ where, text: value });
  } else if (Array.isArray(value)) {
    for (const v of value) expressions(v, where, out);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) expressions(v, `${where}.${k}`, out);
  }
}

function dynamicBlockNames(body: JsonObject): Set<string> {
  const names = new Set<string>();
  const visit = (b: JsonObject): void => {
    if (isObject(b.dynamic)) for (const name of Object.keys(b.dynamic)) names.add(name);
    for (const v of Object.values(b)) {
      if (Array.isArray(v))
        for (const x of v)
          if (isObject(x)) visit(x);
          else if (isObject(v)) visit(v);
    }
  };
  visit(body);
  return names;
}

describe("terraform/ structure (parsed with @cdktf/hcl2json)", () => {
  it("is split by concern", async () => {
    const config = await loadTerraform();
    expect(config.files).toEqual(
      expect.arrayContaining([
        "compute.tf",
        "functions.tf",
        "iam.tf",
        "network.tf",
        "outputs.tf",
        "registry.tf",
        "schedules.tf",
        "variables.tf",
        "versions.tf",
      ]),
    );
  });

  it("pins the oracle/oci provider and hardcodes no credentials", async () => {
    const config = await loadTerraform();
    const required = config.terraform.flatMap((t) =>
      Array.isArray(t.required_providers) ? t.required_providers : [],
    );
    expect(required).toContainEqual(
      expect.objectContaining({ oci: expect.objectContaining({ source: "oracle/oci" }) }),
    );
    const provider = config.providers.oci;
    expect(provider).toBeDefined();
    expect(provider).toEqual({
      region: "${var.region}",
      auth: "${var.oci_auth}",
      config_file_profile: "${var.oci_config_file_profile}",
    });
  });

  it("gives every variable a type and a description", async () => {
    const config = await loadTerraform();
    const names = Object.keys(config.variables);
    expect(names.length).toBeGreaterThan(20);
    for (const [name, body] of Object.entries(config.variables)) {
      expect(typeof body.type === "string" && body.type.length > 0, `variable ${name} has no type`).toBe(
        true,
      );
      expect(
        typeof body.description === "string" && body.description.length >= 10,
        `variable ${name} has no description`,
      ).toBe(true);
    }
  });

  it("resolves every reference to something declared (no modules)", async () => {
    const config = await loadTerraform();
    expect(config.modules).toEqual({});
    const found: Array<{
      where: string;
      text: string;
      dynamicNames: Set<string>;
      iterates: "each" | "count" | "none";
    }> = [];
    const collect = (value: Json, where: string, body?: JsonObject): void => {
      const list: Array<{ where: string; text: string }> = [];
      expressions(value, where, list);
      const iterates = body?.for_each !== undefined ? "each" : body?.count !== undefined ? "count" : "none";
      const dynamicNames = body ? dynamicBlockNames(body) : new Set<string>();
      for (const e of list) found.push({ ...e, dynamicNames, iterates });
    };
    for (const [type, byName] of Object.entries(config.resources)) {
      for (const [name, body] of Object.entries(byName)) {
        // lifecycle.ignore_changes lists attribute paths, not references.
        const lifecycle = blocks(body, "lifecycle").map(({ ignore_changes: _ignored, ...rest }) => rest);
        collect({ ...body, lifecycle }, `resource ${type}.${name}`, body);
      }
    }
    for (const [type, byName] of Object.entries(config.data)) {
      for (const [name, body] of Object.entries(byName)) collect(body, `data ${type}.${name}`, body);
    }
    for (const [name, value] of Object.entries(config.locals)) collect(value, `local ${name}`);
    for (const [name, body] of Object.entries(config.outputs)) collect(body, `output ${name}`);
    for (const [name, body] of Object.entries(config.variables))
      collect(body.validation ?? null, `variable ${name}`);
    for (const [name, body] of Object.entries(config.providers)) collect(body, `provider ${name}`);
    expect(found.length).toBeGreaterThan(100);

    const unresolved: string[] = [];
    let checked = 0;
    for (const { where, text, dynamicNames, iterates } of found) {
      for (const ref of await getReferencesInExpression("expr.tf", text)) {
        checked++;
        const [head = "", second = "", third = ""] = ref.value.split(".");
        const ok = (() => {
          switch (head) {
            case "var":
              return second in config.variables;
            case "local":
              return second in config.locals;
            case "data":
              return config.data[second]?.[third] !== undefined;
            case "each":
              return iterates === "each";
            case "count":
              return iterates === "count";
            case "path":
              return second === "module";
            case "module":
              return false;
            default:
              if (head in config.resources) return config.resources[head]?.[second] !== undefined;
              // The iterator of a dynamic block is named after the block.
              return dynamicNames.has(head) && (second === "value" || second === "key");
          }
        })();
        if (!ok) unresolved.push(`${where}: ${ref.value}`);
      }
    }
    expect(unresolved).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });

  it("sets the arguments the provider requires on every resource and data source", async () => {
    const config = await loadTerraform();
    const problems: string[] = [];
    for (const [type, byName] of Object.entries(config.resources)) {
      const required = REQUIRED_RESOURCE_ARGUMENTS[type];
      if (!required) {
        problems.push(`resource type ${type} has no row in REQUIRED_RESOURCE_ARGUMENTS`);
        continue;
      }
      for (const [name, body] of Object.entries(byName)) {
        for (const m of missingArguments(body, required)) problems.push(`${type}.${name}: missing ${m}`);
      }
    }
    for (const [type, byName] of Object.entries(config.data)) {
      const required = REQUIRED_DATA_ARGUMENTS[type];
      if (!required) {
        problems.push(`data source ${type} has no row in REQUIRED_DATA_ARGUMENTS`);
        continue;
      }
      for (const [name, body] of Object.entries(byName)) {
        for (const m of missingArguments(body, required)) problems.push(`data.${type}.${name}: missing ${m}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("detects a missing required argument (the check itself works)", () => {
    expect(
      missingArguments({ compartment_id: "x", source_details: [{ source_type: "image" }] }, [
        "compartment_id",
        "availability_domain",
        "source_details.source_id",
        "create_vnic_details.subnet_id",
      ]),
    ).toEqual(["availability_domain", "source_details.source_id", "create_vnic_details"]);
  });

  it("creates everything issue 5 lists", async () => {
    const { resources } = await loadTerraform();
    expect(Object.keys(resources).sort()).toEqual(Object.keys(REQUIRED_RESOURCE_ARGUMENTS).sort());
    expect(Object.keys(resources.oci_core_instance ?? {}).sort()).toEqual(["management", "target"]);
    expect(Object.keys(resources.oci_identity_dynamic_group ?? {}).sort()).toEqual([
      "functions",
      "management",
    ]);
  });

  it("looks the image up by OS and version, newest first, never by a dated name", async () => {
    const { data, resources } = await loadTerraform();
    const images = data.oci_core_images?.platform;
    expect(images).toMatchObject({
      operating_system: "${var.image_operating_system}",
      operating_system_version: "${var.image_operating_system_version}",
      sort_by: "TIMECREATED",
      sort_order: "DESC",
      state: "AVAILABLE",
    });
    for (const name of ["management", "target"]) {
      const instance = resources.oci_core_instance?.[name];
      expect(JSON.stringify(instance?.source_details)).toContain("data.oci_core_images.platform[");
      expect(instance?.shape_config).toBeDefined();
    }
    expect(readFileSync(join(terraformDir, "compute.tf"), "utf8")).not.toMatch(/Oracle-Linux-\d/);
  });

  it("sizes the functions within OCI limits: memory from the allowed set, timeout at most 300 s", async () => {
    const { resources, variables } = await loadTerraform();
    const fn = resources.oci_functions_function?.this;
    expect(fn).toMatchObject({
      memory_in_mbs: "${var.function_memory_in_mbs}",
      timeout_in_seconds: "${var.function_timeout_in_seconds}",
      image: "${each.value.image}",
    });
    expect([128, 256, 512, 1024, 2048, 3072]).toContain(variables.function_memory_in_mbs?.default);
    const timeout = variables.function_timeout_in_seconds?.default;
    expect(typeof timeout === "number" && timeout <= 300).toBe(true);
  });

  it("gives the application its subnet, the guardrail config and an invoke log", async () => {
    const { resources } = await loadTerraform();
    expect(resources.oci_functions_application?.this).toMatchObject({
      subnet_ids: ["${local.functions_subnet_id}"],
      config: { ALLOWED_COMPARTMENT_IDS: "${local.target_compartment_id}" },
    });
    const log = resources.oci_logging_log?.functions_invoke;
    expect(log).toMatchObject({ log_type: "SERVICE", log_group_id: "${oci_logging_log_group.functions.id}" });
    expect(JSON.stringify(log?.configuration)).toContain('"resource":"${oci_functions_application.this.id}"');
    expect(JSON.stringify(log?.configuration)).toContain('"service":"functions"');
  });

  it("opens SSH only from ssh_ingress_cidr, which defaults to nothing", async () => {
    const { resources, variables } = await loadTerraform();
    expect(variables.ssh_ingress_cidr?.default).toBeNull();
    const lists = resources.oci_core_security_list ?? {};
    const ingressSources: Json[] = [];
    for (const body of Object.values(lists)) {
      for (const rule of blocks(body, "ingress_security_rules")) ingressSources.push(rule.source ?? null);
    }
    expect(ingressSources).not.toContain("0.0.0.0/0");
    const sshRules = Object.values(lists)
      .flatMap((b) => blocks(b, "ingress_security_rules"))
      .filter((r) => JSON.stringify(r.tcp_options ?? []).includes('"min":22'));
    expect(sshRules).toHaveLength(1);
    expect(JSON.stringify(lists.management?.dynamic)).toContain(
      "var.ssh_ingress_cidr == null ? [] : [var.ssh_ingress_cidr]",
    );
    // The VCN's default security list (SSH from anywhere) is emptied.
    const defaults = resources.oci_core_default_security_list?.this;
    expect(defaults?.ingress_security_rules).toBeUndefined();
    expect(defaults?.egress_security_rules).toBeUndefined();
  });

  it("tags the target instances so the default schedules select them", async () => {
    const { resources, variables } = await loadTerraform();
    expect(resources.oci_core_instance?.target?.count).toBe("${var.target_instance_count}");
    expect(variables.target_instance_count?.default).toBe(1);
    expect(resources.oci_core_instance?.target?.freeform_tags).toContain("var.target_freeform_tags");
    const tags = variables.target_freeform_tags?.default;
    const schedules = variables.schedules?.default;
    expect(Array.isArray(schedules)).toBe(true);
    for (const s of Array.isArray(schedules) ? schedules : []) {
      expect(isObject(s) && isObject(s.body) ? s.body.freeform_tags : undefined).toEqual(tags);
    }
  });

  it("ships schedule.sh and the crontab to the management instance through cloud-init", () => {
    const compute = readFileSync(join(terraformDir, "compute.tf"), "utf8");
    expect(compute).toContain('base64gzip(file("${path.module}/../scripts/schedule.sh"))');
    expect(compute).toContain('base64gzip(file("${path.module}/../scripts/crontab.sh"))');
    expect(compute).toContain("base64encode(local.crontab)");
    const template = readFileSync(join(terraformDir, "templates/cloud-init.yaml.tftpl"), "utf8");
    const used = new Set([...template.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] ?? ""));
    const call =
      /templatefile\("\$\{path\.module\}\/templates\/cloud-init\.yaml\.tftpl", \{([\s\S]*?)\}\)/.exec(
        compute,
      );
    expect(call).not.toBeNull();
    const passed = new Set([...(call?.[1] ?? "").matchAll(/^\s*(\w+)\s+=/gm)].map((m) => m[1] ?? ""));
    expect(used.size).toBeGreaterThan(3);
    for (const name of used)
      expect(passed, `template variable ${name} is not passed by templatefile()`).toContain(name);
  });
});
