import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const terraformDir = join(repoRoot, "terraform");

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what}: expected an object, got ${JSON.stringify(value)}`);
  return value;
}

/** hcl2json gives every block body as a one-element list; this returns that body. */
export function blockBody(value: Json | undefined, what: string): JsonObject {
  if (Array.isArray(value) && value.length === 1) return asObject(value[0], what);
  return asObject(value, what);
}

export interface TerraformConfig {
  files: string[];
  variables: Record<string, JsonObject>;
  locals: Record<string, Json>;
  /** type -> name -> body */
  resources: Record<string, Record<string, JsonObject>>;
  data: Record<string, Record<string, JsonObject>>;
  outputs: Record<string, JsonObject>;
  providers: Record<string, JsonObject>;
  terraform: JsonObject[];
  modules: Record<string, JsonObject>;
}

function mergeTyped(
  target: Record<string, Record<string, JsonObject>>,
  source: Json | undefined,
  file: string,
  kind: string,
): void {
  if (source === undefined) return;
  for (const [type, byName] of Object.entries(asObject(source, `${file} ${kind}`))) {
    target[type] ??= {};
    for (const [name, body] of Object.entries(asObject(byName, `${file} ${kind} ${type}`))) {
      if (target[type]?.[name]) throw new Error(`${kind} ${type}.${name} declared twice (${file})`);
      (target[type] as Record<string, JsonObject>)[name] = blockBody(body, `${file} ${kind} ${type}.${name}`);
    }
  }
}

function mergeNamed(
  target: Record<string, JsonObject>,
  source: Json | undefined,
  file: string,
  kind: string,
): void {
  if (source === undefined) return;
  for (const [name, body] of Object.entries(asObject(source, `${file} ${kind}`))) {
    if (target[name]) throw new Error(`${kind} ${name} declared twice (${file})`);
    target[name] = blockBody(body, `${file} ${kind} ${name}`);
  }
}

let cached: Promise<TerraformConfig> | undefined;

/** Parses every terraform/*.tf file with @cdktf/hcl2json and merges the blocks. */
export function loadTerraform(): Promise<TerraformConfig> {
  cached ??= (async () => {
    const files = readdirSync(terraformDir)
      .filter((f) => f.endsWith(".tf"))
      .sort();
    const config: TerraformConfig = {
      files,
      variables: {},
      locals: {},
      resources: {},
      data: {},
      outputs: {},
      providers: {},
      terraform: [],
      modules: {},
    };
    for (const file of files) {
      const parsed = (await parse(file, readFileSync(join(terraformDir, file), "utf8"))) as Json;
      const doc = asObject(parsed, file);
      for (const key of Object.keys(doc)) {
        if (
          ![
            "variable",
            "locals",
            "resource",
            "data",
            "output",
            "provider",
            "terraform",
            "module",
            "moved",
          ].includes(key)
        ) {
          throw new Error(`${file}: unexpected top-level block ${key}`);
        }
      }
      mergeNamed(config.variables, doc.variable, file, "variable");
      mergeNamed(config.outputs, doc.output, file, "output");
      mergeNamed(config.providers, doc.provider, file, "provider");
      mergeNamed(config.modules, doc.module, file, "module");
      mergeTyped(config.resources, doc.resource, file, "resource");
      mergeTyped(config.data, doc.data, file, "data");
      for (const block of (doc.locals as Json[] | undefined) ?? []) {
        for (const [name, value] of Object.entries(asObject(block, `${file} locals`))) {
          if (name in config.locals) throw new Error(`local ${name} declared twice (${file})`);
          config.locals[name] = value;
        }
      }
      for (const block of (doc.terraform as Json[] | undefined) ?? [])
        config.terraform.push(asObject(block, file));
    }
    return config;
  })();
  return cached;
}

/** The default value of variable "schedules", as the crontab generator takes it (JSON). */
export async function defaultSchedules(): Promise<Json> {
  const config = await loadTerraform();
  const schedules = config.variables.schedules;
  if (!schedules || schedules.default === undefined) throw new Error('variable "schedules" has no default');
  return schedules.default;
}

/** Strips the "${...}" wrapper hcl2json puts around a pure expression. */
export function unwrapExpression(value: string): string {
  const match = /^\$\{([\s\S]*)\}$/.exec(value);
  return match?.[1] ?? value;
}
