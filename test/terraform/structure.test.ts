// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${...}" here is Terraform interpolation text, as hcl2json returns it
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getReferencesInExpression } from "@cdktf/hcl2json";
import { describe, expect, it } from "vitest";
import { isObject, type Json, type JsonObject, loadTerraform, terraformDir } from "./hcl.js";

/** The resource types terraform/ creates (issue 5's list); their arguments are checked in schema.test.ts. */
const RESOURCE_TYPES = [
  "oci_artifacts_container_repository",
  "oci_core_default_security_list",
  "oci_core_instance",
  "oci_core_internet_gateway",
  "oci_core_nat_gateway",
  "oci_core_route_table",
  "oci_core_security_list",
  "oci_core_service_gateway",
  "oci_core_subnet",
  "oci_core_vcn",
  "oci_events_rule",
  "oci_functions_application",
  "oci_functions_function",
  "oci_identity_dynamic_group",
  "oci_identity_policy",
  "oci_logging_log",
  "oci_logging_log_group",
  "oci_monitoring_alarm",
  "oci_ons_notification_topic",
  "oci_ons_subscription",
  "oci_queue_queue",
  "oci_sch_service_connector",
  "terraform_data",
];

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
            case "self":
              return /\.lifecycle\.postcondition\./.test(where);
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

  it("writes enum-valued nested arguments in the API's spelling (the provider passes them unchecked)", async () => {
    const { resources } = await loadTerraform();
    const formats = Object.values(resources.oci_artifacts_container_repository ?? {}).flatMap((r) =>
      (Array.isArray(r.readme) ? r.readme : []).map((b) => (isObject(b) ? b.format : undefined)),
    );
    expect(formats.length).toBeGreaterThan(0);
    for (const format of formats) expect(["TEXT_PLAIN", "TEXT_MARKDOWN"]).toContain(format);
  });

  it("creates everything issue 5 lists", async () => {
    const { resources } = await loadTerraform();
    expect(Object.keys(resources).sort()).toEqual(RESOURCE_TYPES);
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
