// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${...}" here is Terraform interpolation text
/**
 * Evaluates terraform/ with the real Terraform binary, without the oracle/oci provider (which cannot be
 * downloaded here): every variable (types, defaults, validations), every local and every output of the
 * configuration are copied into a provider-less JSON configuration in which each resource and data
 * source is replaced by a local "stub" object. A resource stub carries the resource's own arguments
 * (evaluated by Terraform, with each.* and count.index bound) plus made-up values for the attributes
 * the provider would compute (id, IPs, ...); a data source stub carries made-up provider answers.
 * `terraform init && terraform apply` then renders policies, matching rules, the crontab, cloud-init
 * and the outputs exactly as Terraform would, and refuses bad variable values through the real
 * validation blocks. Each lifecycle precondition/postcondition becomes a precondition of a
 * `terraform_data` check resource (`self` = the stub), so apply refuses what Terraform would refuse.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isObject, type Json, type JsonObject, loadTerraform, terraformDir } from "./hcl.js";

const META_ARGUMENTS = new Set([
  "count",
  "for_each",
  "depends_on",
  "lifecycle",
  "provider",
  "provisioner",
  "connection",
  "dynamic",
]);

/** Values the provider would compute, per resource type (besides id). */
const COMPUTED_ATTRIBUTES: Record<string, Record<string, string>> = {
  oci_core_instance: { public_ip: '"203.0.113.10"', private_ip: '"10.20.2.10"' },
  oci_core_vcn: { default_security_list_id: '"ocid1.securitylist.oc1..stub-default"' },
};

/** The resource-type part of made-up OCIDs, so ids look like the real ones (ocid1.fnfunc...). */
const OCID_TYPES: Record<string, string> = {
  oci_functions_function: "fnfunc",
  oci_functions_application: "fnapp",
  oci_core_instance: "instance",
  oci_core_vcn: "vcn",
  oci_core_subnet: "subnet",
  oci_identity_dynamic_group: "dynamicgroup",
  oci_identity_policy: "policy",
  oci_artifacts_container_repository: "containerrepo",
  oci_logging_log_group: "loggroup",
  oci_logging_log: "log",
  oci_ons_notification_topic: "onstopic",
};

/** What the provider would answer, per data source type. */
const DATA_ANSWERS: Record<string, string> = {
  oci_identity_availability_domains:
    '{ availability_domains = [{ name = "Uocm:EU-FRANKFURT-1-AD-1" }, { name = "Uocm:EU-FRANKFURT-1-AD-2" }, { name = "Uocm:EU-FRANKFURT-1-AD-3" }] }',
  oci_core_images:
    '{ images = [{ id = "ocid1.image.oc1.eu-frankfurt-1.stub-newest" }, { id = "ocid1.image.oc1.eu-frankfurt-1.stub-older" }] }',
  oci_core_services:
    '{ services = [{ id = "ocid1.service.oc1.eu-frankfurt-1.stub-all", cidr_block = "all-fra-services-in-oracle-services-network" }] }',
  oci_objectstorage_namespace: '{ namespace = "stubnamespace" }',
  oci_identity_regions:
    '{ regions = [{ key = "FRA", name = "eu-frankfurt-1" }, { key = "IAD", name = "us-ashburn-1" }] }',
};

export function stubName(kind: "resource" | "data", type: string, name: string): string {
  return kind === "data" ? `stub__data__${type}__${name}` : `stub__${type}__${name}`;
}

/** Index just past the "}" closing an expression that starts at `start` (after "${"). */
function scanExpression(s: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      i = scanString(s, i + 1);
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") {
      if (depth === 0) return i + 1;
      depth--;
    }
    i++;
  }
  throw new Error(`unterminated expression in ${s}`);
}

/** Index just past the closing quote of a quoted template starting at `start` (after the quote). */
function scanString(s: string, start: number): number {
  let i = start;
  while (i < s.length) {
    if (s[i] === "\\") {
      i += 2;
    } else if (s.startsWith("${", i) || s.startsWith("%{", i)) {
      i = scanExpression(s, i + 2);
    } else if (s[i] === '"') {
      return i + 1;
    } else {
      i++;
    }
  }
  throw new Error(`unterminated string in ${s}`);
}

/** Splits an hcl2json template string into literal text and interpolated expressions. */
function templateParts(template: string): Array<{ literal: string } | { expression: string }> {
  const parts: Array<{ literal: string } | { expression: string }> = [];
  let literal = "";
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("${", i)) {
      if (literal) parts.push({ literal });
      literal = "";
      const end = scanExpression(template, i + 2);
      parts.push({ expression: template.slice(i + 2, end - 1) });
      i = end;
    } else {
      literal += template[i];
      i++;
    }
  }
  if (literal) parts.push({ literal });
  return parts;
}

/** Matches references to resources and data sources of the declared types (set by renderTerraform). */
let referencePattern = /(?!)/g;

/** Rewrites references that do not exist in the stub configuration. */
function rewriteExpression(expression: string, bindings: "none" | "each" | "count"): string {
  let out = expression
    .replace(
      referencePattern,
      (_m, data: string | undefined, type: string, name: string) =>
        `local.${stubName(data ? "data" : "resource", type, name)}`,
    )
    .replace(/\bpath\.module\b/g, JSON.stringify(terraformDir));
  if (bindings === "each") out = out.replace(/\beach\.value\b/g, "stubv").replace(/\beach\.key\b/g, "stubk");
  if (bindings === "count") out = out.replace(/\bcount\.index\b/g, "stubi");
  return out;
}

/** A JSON-syntax template (as hcl2json gives it) with its references rewritten; stays a JSON template. */
function rewriteTemplate(template: string): string {
  return templateParts(template)
    .map((p) => ("literal" in p ? p.literal : `\${${rewriteExpression(p.expression, "none")}}`))
    .join("");
}

function rewriteJson(value: Json): Json {
  if (typeof value === "string") return rewriteTemplate(value);
  if (Array.isArray(value)) return value.map(rewriteJson);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteJson(v)]));
  return value;
}

/** An argument value as an HCL native expression. */
function toExpression(value: Json, bindings: "none" | "each" | "count"): string | undefined {
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") {
    const parts = templateParts(value);
    const only = parts[0];
    if (parts.length === 1 && only && "expression" in only)
      return `(${rewriteExpression(only.expression, bindings)})`;
    const body = parts
      .map((p) =>
        "literal" in p
          ? JSON.stringify(p.literal).slice(1, -1).replace(/%\{/g, "%%{")
          : `\${${rewriteExpression(p.expression, bindings)}}`,
      )
      .join("");
    return `"${body}"`;
  }
  if (Array.isArray(value)) {
    // A list of objects is a nested block: not an attribute anything refers to.
    if (value.some((v) => isObject(v))) return undefined;
    const items = value.map((v) => toExpression(v, bindings));
    return items.every((i) => i !== undefined) ? `[${items.join(", ")}]` : undefined;
  }
  const entries: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const e = toExpression(v, bindings);
    if (e === undefined) return undefined;
    entries.push(`${JSON.stringify(k)} = ${e}`);
  }
  return `{ ${entries.join(", ")} }`;
}

function stubExpression(
  kind: "resource" | "data",
  type: string,
  name: string,
  body: JsonObject,
  dataAnswer?: string,
): string {
  const forEach = typeof body.for_each === "string" ? body.for_each : undefined;
  const count = typeof body.count === "string" || typeof body.count === "number" ? body.count : undefined;
  const bindings = forEach ? "each" : count !== undefined ? "count" : "none";
  const suffix = forEach ? "-${stubk}" : count !== undefined ? "-${stubi}" : "";
  const attributes: string[] = [];
  if (kind === "resource") {
    const ocidType = OCID_TYPES[type] ?? type.replace(/^oci_/, "").replace(/_/g, "");
    attributes.push(`id = "ocid1.${ocidType}.oc1.eu-frankfurt-1.stub${name.replace(/_/g, "")}${suffix}"`);
    for (const [k, v] of Object.entries(body)) {
      if (META_ARGUMENTS.has(k)) continue;
      const e = toExpression(v, bindings);
      if (e !== undefined) attributes.push(`${k} = ${e}`);
    }
    for (const [k, v] of Object.entries(COMPUTED_ATTRIBUTES[type] ?? {})) attributes.push(`${k} = ${v}`);
  }
  const object =
    kind === "data"
      ? (dataAnswer ??
        DATA_ANSWERS[type] ??
        (() => {
          throw new Error(`no stub answer for data source ${type}: add one to DATA_ANSWERS`);
        })())
      : `{ ${attributes.join(", ")} }`;
  if (forEach)
    return `\${{ for stubk, stubv in ${rewriteExpression(forEach.slice(2, -1), "none")} : stubk => ${object} }}`;
  if (count !== undefined) {
    const countExpression =
      typeof count === "number" ? String(count) : rewriteExpression(count.slice(2, -1), "none");
    return `\${[for stubi in range(${countExpression}) : ${object}]}`;
  }
  return `\${${object}}`;
}

/**
 * The conditions of a resource's or data source's `lifecycle` as `terraform_data` preconditions. Only
 * for blocks without count/for_each (conditions of counted blocks would need their bindings).
 */
function conditionChecks(
  kind: "resource" | "data",
  type: string,
  name: string,
  body: JsonObject,
): JsonObject | undefined {
  if (body.count !== undefined || body.for_each !== undefined) return undefined;
  const lifecycle = Array.isArray(body.lifecycle) ? body.lifecycle.filter(isObject) : [];
  const conditions = lifecycle.flatMap((l) =>
    [
      ...(Array.isArray(l.precondition) ? l.precondition : []),
      ...(Array.isArray(l.postcondition) ? l.postcondition : []),
    ].filter(isObject),
  );
  if (conditions.length === 0) return undefined;
  const self = `local.${stubName(kind, type, name)}`;
  return {
    lifecycle: [
      {
        precondition: conditions.map((c) => ({
          condition: rewriteJson(
            typeof c.condition === "string" ? c.condition.replace(/\bself\b/g, self) : null,
          ),
          error_message: rewriteJson(
            typeof c.error_message === "string" ? c.error_message.replace(/\bself\b/g, self) : null,
          ),
        })),
      },
    ],
  };
}

export interface RenderResult {
  code: number | null;
  stderr: string;
  /** Every output of terraform/outputs.tf plus "resources" (stub of each resource, by "type.name") and "locals". */
  outputs: Record<string, Json>;
}

/**
 * Renders terraform/ with these variable values (a .tfvars.json) and returns the outputs. `dataAnswers`
 * replaces the made-up provider answers for some data source types (e.g. a single-AD region).
 */
export async function renderTerraform(
  variables: Record<string, Json>,
  dataAnswers: Record<string, string> = {},
): Promise<RenderResult> {
  const config = await loadTerraform();
  const types = [...new Set([...Object.keys(config.resources), ...Object.keys(config.data)])].sort(
    (a, b) => b.length - a.length,
  );
  referencePattern = new RegExp(`(?<![\\w.])(data\\.)?(${types.join("|")})\\.([a-z0-9_]+)\\b`, "g");
  const variableBlocks: Record<string, Json> = {};
  for (const [name, body] of Object.entries(config.variables)) {
    const block: JsonObject = {};
    for (const [k, v] of Object.entries(body)) {
      if (k === "type" && typeof v === "string") block.type = v.replace(/^\$\{([\s\S]*)\}$/, "$1");
      else if (k === "validation" || k === "default") block[k] = k === "default" ? v : rewriteJson(v);
      else block[k] = v;
    }
    variableBlocks[name] = block;
  }
  const locals: JsonObject = {};
  for (const [name, value] of Object.entries(config.locals)) locals[name] = rewriteJson(value);
  const resourceNames: string[] = [];
  const checks: JsonObject = {};
  for (const [kind, all] of [
    ["resource", config.resources],
    ["data", config.data],
  ] as const) {
    for (const [type, byName] of Object.entries(all)) {
      for (const [name, body] of Object.entries(byName)) {
        const check = conditionChecks(kind, type, name, body);
        if (check) checks[`check__${stubName(kind, type, name)}`] = check;
      }
    }
  }
  for (const [type, byName] of Object.entries(config.resources)) {
    for (const [name, body] of Object.entries(byName)) {
      locals[stubName("resource", type, name)] = stubExpression("resource", type, name, body);
      resourceNames.push(`${JSON.stringify(`${type}.${name}`)} = local.${stubName("resource", type, name)}`);
    }
  }
  for (const [type, byName] of Object.entries(config.data)) {
    for (const [name, body] of Object.entries(byName)) {
      locals[stubName("data", type, name)] = stubExpression("data", type, name, body, dataAnswers[type]);
    }
  }
  const outputs: JsonObject = {};
  for (const [name, body] of Object.entries(config.outputs))
    outputs[name] = { value: rewriteJson(body.value ?? null) };
  outputs.resources = { value: `\${{ ${resourceNames.join(", ")} }}` };
  outputs.locals = {
    value: `\${{ ${Object.keys(config.locals)
      .map((l) => `${l} = local.${l}`)
      .join(", ")} }}`,
  };

  const dir = mkdtempSync(join(tmpdir(), "tf-render-"));
  try {
    writeFileSync(
      join(dir, "main.tf.json"),
      JSON.stringify(
        {
          variable: variableBlocks,
          locals,
          output: outputs,
          ...(Object.keys(checks).length > 0 ? { resource: { terraform_data: checks } } : {}),
        },
        null,
        2,
      ),
    );
    writeFileSync(join(dir, "terraform.tfvars.json"), JSON.stringify(variables, null, 2));
    const env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: "/dev/null",
      TF_IN_AUTOMATION: "1",
      CHECKPOINT_DISABLE: "1",
    };
    const run = (args: string[]) =>
      spawnSync("terraform", args, { cwd: dir, env, encoding: "utf8", timeout: 60_000 });
    for (const args of [
      ["init", "-input=false", "-no-color"],
      ["apply", "-auto-approve", "-input=false", "-no-color"],
    ]) {
      const result = run(args);
      if (result.error) throw result.error;
      if (result.status !== 0) return { code: result.status, stderr: result.stderr, outputs: {} };
    }
    const result = run(["output", "-json", "-no-color"]);
    if (result.status !== 0) return { code: result.status, stderr: result.stderr, outputs: {} };
    const parsed = JSON.parse(result.stdout) as Record<string, { value: Json }>;
    return {
      code: 0,
      stderr: result.stderr,
      outputs: Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v.value])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Variable values for a render: the required ones, valid. */
export const REQUIRED_VARIABLES: Record<string, Json> = {
  tenancy_ocid: "ocid1.tenancy.oc1..aaaaaaaatenancy",
  region: "eu-frankfurt-1",
  compartment_ocid: "ocid1.compartment.oc1..aaaaaaaaapp",
  start_function_image: "fra.ocir.io/stubnamespace/oci-compute-power/start-compute:0.1.0",
  stop_function_image: "fra.ocir.io/stubnamespace/oci-compute-power/stop-compute:0.1.0",
};
