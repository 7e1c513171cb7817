/**
 * terraform/ checked against the oracle/oci provider's own schema (`terraform providers schema -json`,
 * extracts in ./schemas): every argument and block of every resource, data source and the provider
 * block exists, is not computed-only and not deprecated; required arguments are set (a `dynamic`
 * block counts for its block); blocks are not given as arguments, nor more often than max_items.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isObject, type Json, type JsonObject, repoRoot, type TerraformConfig } from "./hcl.js";

export const PROVIDER_KEY = "registry.terraform.io/oracle/oci";
export const PROVIDER_VERSIONS = ["7.32.0", "8.28.0"] as const;

interface AttributeSchema {
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  deprecated?: boolean;
}

interface BlockTypeSchema {
  nesting_mode: string;
  min_items?: number;
  max_items?: number;
  block: BlockSchema;
}

export interface BlockSchema {
  attributes?: Record<string, AttributeSchema>;
  block_types?: Record<string, BlockTypeSchema>;
  deprecated?: boolean;
}

export interface ProviderSchema {
  version: string;
  provider: BlockSchema;
  resources: Record<string, BlockSchema>;
  dataSources: Record<string, BlockSchema>;
}

const RESOURCE_META = new Set([
  "count",
  "for_each",
  "depends_on",
  "provider",
  "lifecycle",
  "provisioner",
  "connection",
]);
const DATA_META = new Set(["count", "for_each", "depends_on", "provider", "lifecycle"]);
const PROVIDER_META = new Set(["alias", "version"]);
/** Built into Terraform itself (no provider schema): its arguments, none required. */
const BUILT_IN: Record<string, BlockSchema> = {
  terraform_data: { attributes: { input: { optional: true }, triggers_replace: { optional: true } } },
};

/**
 * Resource types the provider schemas we hold lack (../shared/terraform has 195-199 of the provider's
 * resources, no oci_sch_*), so their arguments cannot be checked here: each is written from the
 * provider's docs, says so in its .tf file, and a test fails once a schema gains the type.
 */
export const NOT_IN_HELD_SCHEMAS: ReadonlySet<string> = new Set(["oci_sch_service_connector"]);

/**
 * Deprecations we accept, each with why. 8.28.0 marks the nested `actions.actions` block of
 * oci_events_rule deprecated but offers nothing in its place: it is still the only way a rule names
 * the function it invokes (the optional, off-by-default Events example in alerts.tf).
 */
export const ACCEPTED_DEPRECATIONS: ReadonlyMap<string, string> = new Map([
  ["oci_events_rule.example.actions.actions", "8.28.0 deprecates it without a replacement"],
]);

export function loadProviderSchema(version: string): ProviderSchema {
  const file = join(repoRoot, "test/terraform/schemas", `oracle-oci-${version}.json`);
  const json = JSON.parse(readFileSync(file, "utf8")) as {
    provider_schemas: Record<
      string,
      {
        provider: { block: BlockSchema };
        resource_schemas: Record<string, { block: BlockSchema }>;
        data_source_schemas: Record<string, { block: BlockSchema }>;
      }
    >;
  };
  const p = json.provider_schemas[PROVIDER_KEY];
  if (!p) throw new Error(`${file}: no ${PROVIDER_KEY}`);
  const blocks = (m: Record<string, { block: BlockSchema }>) =>
    Object.fromEntries(Object.entries(m).map(([type, s]) => [type, s.block]));
  return {
    version,
    provider: p.provider.block,
    resources: blocks(p.resource_schemas),
    dataSources: blocks(p.data_source_schemas),
  };
}

/** The bodies of a nested block as hcl2json gives them: a list of objects. */
function staticBlocks(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** `dynamic "<name>" { content { … } }`: name → content bodies. */
function dynamicBlocks(body: JsonObject): Map<string, JsonObject[]> {
  const out = new Map<string, JsonObject[]>();
  if (!isObject(body.dynamic)) return out;
  for (const [name, list] of Object.entries(body.dynamic)) {
    out.set(
      name,
      staticBlocks(list).flatMap((d) => staticBlocks(d.content)),
    );
  }
  return out;
}

/** Problems of one block body against its schema, each naming where (`type.name.block.argument`). */
export function checkBlock(
  body: JsonObject,
  schema: BlockSchema,
  where: string,
  meta: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const attributes = schema.attributes ?? {};
  const blockTypes = schema.block_types ?? {};
  const dynamic = dynamicBlocks(body);
  for (const [key, value] of Object.entries(body)) {
    if (meta.has(key) || key === "dynamic") continue;
    const attribute = attributes[key];
    const blockType = blockTypes[key];
    if (attribute) {
      if (attribute.computed && !attribute.optional && !attribute.required) {
        problems.push(`${where}.${key}: computed-only (the provider sets it; it cannot be an argument)`);
      }
      if (attribute.deprecated) problems.push(`${where}.${key}: deprecated`);
    } else if (blockType) {
      if (!Array.isArray(value))
        problems.push(`${where}.${key}: is a block; write ${key} { … }, not ${key} = …`);
      problems.push(...checkNested(key, staticBlocks(value), blockType, where, false));
    } else {
      problems.push(`${where}.${key}: no such argument or block`);
    }
  }
  for (const [name, contents] of dynamic) {
    const blockType = blockTypes[name];
    if (!blockType) problems.push(`${where}.dynamic.${name}: no such block`);
    else problems.push(...checkNested(name, contents, blockType, `${where}.dynamic`, true));
  }
  for (const [name, a] of Object.entries(attributes)) {
    if (a.required && (body[name] === undefined || body[name] === null))
      problems.push(`${where}.${name}: required, not set`);
  }
  for (const [name, b] of Object.entries(blockTypes)) {
    const count = staticBlocks(body[name]).length + (dynamic.has(name) ? 1 : 0);
    if ((b.min_items ?? 0) > 0 && count === 0) problems.push(`${where}.${name}: required block, not set`);
  }
  return problems;
}

function checkNested(
  name: string,
  bodies: JsonObject[],
  blockType: BlockTypeSchema,
  where: string,
  isDynamic: boolean,
): string[] {
  const problems: string[] = [];
  if (blockType.block.deprecated && !ACCEPTED_DEPRECATIONS.has(`${where}.${name}`))
    problems.push(`${where}.${name}: deprecated block`);
  if (
    !isDynamic &&
    blockType.max_items !== undefined &&
    blockType.max_items > 0 &&
    bodies.length > blockType.max_items
  ) {
    problems.push(`${where}.${name}: ${bodies.length} blocks, at most ${blockType.max_items} allowed`);
  }
  for (const b of bodies) problems.push(...checkBlock(b, blockType.block, `${where}.${name}`, new Set()));
  return problems;
}

/** Every problem of terraform/ against one provider schema. */
export function checkConfig(config: TerraformConfig, schema: ProviderSchema): string[] {
  const problems: string[] = [];
  const at = `(provider ${schema.version})`;
  for (const [type, byName] of Object.entries(config.resources)) {
    const block = schema.resources[type] ?? BUILT_IN[type];
    if (!block && NOT_IN_HELD_SCHEMAS.has(type)) continue;
    if (!block) {
      problems.push(
        `${type} ${at}: no such resource type (or missing from the extract: see extract-schema.ts)`,
      );
      continue;
    }
    for (const [name, body] of Object.entries(byName))
      problems.push(...checkBlock(body, block, `${type}.${name}`, RESOURCE_META));
  }
  for (const [type, byName] of Object.entries(config.data)) {
    const block = schema.dataSources[type];
    if (!block) {
      problems.push(
        `data.${type} ${at}: no such data source (or missing from the extract: see extract-schema.ts)`,
      );
      continue;
    }
    for (const [name, body] of Object.entries(byName))
      problems.push(...checkBlock(body, block, `data.${type}.${name}`, DATA_META));
  }
  for (const [name, body] of Object.entries(config.providers)) {
    problems.push(...checkBlock(body, schema.provider, `provider.${name}`, PROVIDER_META));
  }
  return problems.map((p) => `${p} ${p.includes(at) ? "" : at}`.trim());
}
