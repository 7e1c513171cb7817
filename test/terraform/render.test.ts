import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "@cdktf/hcl2json";
import { beforeAll, describe, expect, it } from "vitest";
import { runScript } from "../scripts/helpers.js";
import {
  asObject,
  defaultSchedules,
  isObject,
  type Json,
  type JsonObject,
  loadTerraform,
  repoRoot,
} from "./hcl.js";
import { REQUIRED_VARIABLES, type RenderResult, renderTerraform } from "./render.js";

const TARGET_COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaatargets";
const APP_COMPARTMENT = REQUIRED_VARIABLES.compartment_ocid as string;

/** A rendered resource by address; "type.name[i]" is the i-th of a counted one. */
function resource(result: RenderResult, address: string): JsonObject {
  const resources = result.outputs.resources;
  const [, base = address, index] = /^(.*?)(?:\[(\d+)\])?$/.exec(address) ?? [];
  const all = isObject(resources) ? resources[base] : undefined;
  const value = index === undefined ? all : Array.isArray(all) ? all[Number(index)] : undefined;
  if (!isObject(value)) throw new Error(`no rendered resource ${address}: ${JSON.stringify(value)}`);
  return value;
}

function resourceList(result: RenderResult, address: string): Json[] {
  const resources = result.outputs.resources;
  const value = isObject(resources) ? resources[address] : undefined;
  if (!Array.isArray(value)) throw new Error(`${address} is not a counted resource`);
  return value;
}

function statements(result: RenderResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const resources = result.outputs.resources;
  for (const [address, value] of Object.entries(isObject(resources) ? resources : {})) {
    if (!address.startsWith("oci_identity_policy.")) continue;
    for (const [i, policy] of (Array.isArray(value) ? value : [value]).entries()) {
      if (isObject(policy) && Array.isArray(policy.statements))
        out[Array.isArray(value) ? `${address}[${i}]` : address] = policy.statements.map(String);
    }
  }
  return out;
}

function text(value: Json | undefined): string {
  if (typeof value !== "string") throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}

const CRON_RANGES: Array<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const NAMES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};

/** A cron time field: lists of *, N, N-M, with /step; values within range (names for month/day-of-week). */
function validCronField(field: string, index: number): boolean {
  const [min, max] = CRON_RANGES[index] ?? [0, 0];
  return field.split(",").every((item) => {
    const m = /^([^/]+)(?:\/([1-9][0-9]*))?$/.exec(item);
    if (!m) return false;
    if (m[1] === "*") return true;
    const ends = (m[1] ?? "").split("-");
    if (ends.length > 2) return false;
    const values = ends.map((e) =>
      /^[0-9]+$/.test(e) ? Number(e) : index >= 3 ? NAMES[e.toLowerCase()] : undefined,
    );
    return values.every((v) => v !== undefined && v >= min && v <= max);
  });
}

function cronEntries(crontab: string): Array<{ tz: string; fields: string[]; command: string }> {
  const lines = crontab.split("\n");
  const entries: Array<{ tz: string; fields: string[]; command: string }> = [];
  let tz = "";
  for (const line of lines) {
    if (line.startsWith("CRON_TZ=")) tz = line.slice("CRON_TZ=".length);
    const m = /^(\S+) (\S+) (\S+) (\S+) (\S+) (\/.*)$/.exec(line);
    if (m) entries.push({ tz, fields: m.slice(1, 6), command: m[6] ?? "" });
  }
  return entries;
}

/** write_files of a rendered cloud-config: path -> decoded content (b64 or gz+b64). */
function writeFiles(cloudConfig: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const m of cloudConfig.matchAll(
    /- path: (\S+)\n(?: {4}\w+: .*\n)*? {4}encoding: (\S+)\n {4}content: (\S+)/g,
  )) {
    const raw = Buffer.from(m[3] ?? "", "base64");
    files[m[1] ?? ""] = (m[2] === "gz+b64" ? gunzipSync(raw) : raw).toString("utf8");
  }
  return files;
}

/** The schedules as the instance's schedules.json holds them: each names the alerts topic (alerts.tf). */
function withTopic(schedules: Json, result: RenderResult): Json {
  const [topic] = resourceList(result, "oci_ons_notification_topic.alerts");
  const topicId = isObject(topic) ? topic.id : null;
  return (Array.isArray(schedules) ? schedules : []).map((s) =>
    isObject(s) ? { ...s, topic_id: topicId ?? null } : s,
  );
}

function generatorCrontab(schedules: Json, startId: string, stopId: string, compartmentId: string): string {
  const result = runScript(
    "crontab.sh",
    [
      "--schedules",
      "-",
      "--start-function-id",
      startId,
      "--stop-function-id",
      stopId,
      "--compartment-id",
      compartmentId,
    ],
    { input: JSON.stringify(schedules) },
  );
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return result.stdout;
}

describe("terraform/ rendered by Terraform (provider stubbed)", () => {
  let rendered: RenderResult;

  beforeAll(async () => {
    rendered = await renderTerraform({ ...REQUIRED_VARIABLES, target_compartment_ocid: TARGET_COMPARTMENT });
    if (rendered.code !== 0) throw new Error(`terraform apply failed:\n${rendered.stderr}`);
  });

  it("outputs the function OCIDs, target instance OCIDs, management address, commands and crontab", () => {
    const o = rendered.outputs;
    expect(Object.keys(o)).toEqual(
      expect.arrayContaining([
        "start_function_id",
        "stop_function_id",
        "target_instance_ids",
        "management_public_ip",
        "management_private_ip",
        "fn_invoke_commands",
        "oci_invoke_commands",
        "crontab",
        "application_name",
        "fn_registry",
      ]),
    );
    const startId = text(o.start_function_id);
    const stopId = text(o.stop_function_id);
    expect(startId).toMatch(/^ocid1\.fnfunc\./);
    expect(o.target_instance_ids).toHaveLength(1);
    expect(o.management_public_ip).toBe("203.0.113.10");
    const body = `{"compartment_id":"${TARGET_COMPARTMENT}","freeform_tags":{"power-schedule":"office-hours"}}`;
    expect(o.fn_invoke_commands).toEqual({
      start: `echo '${body}' | fn invoke compute-power-app start-compute`,
      stop: `echo '${body}' | fn invoke compute-power-app stop-compute`,
    });
    expect(o.oci_invoke_commands).toEqual({
      start: `oci fn function invoke --function-id ${startId} --file - --body '${body}'`,
      stop: `oci fn function invoke --function-id ${stopId} --file - --body '${body}'`,
    });
    expect(o.fn_registry).toBe("fra.ocir.io/stubnamespace/oci-compute-power");
  });

  it("holds no tenancy-wide manage and nothing tenancy-wide at all", () => {
    const all = Object.values(statements(rendered)).flat();
    // functions_compute 1, management_invoke 2, functions_service 2, alerts 2.
    expect(all.length).toBe(7);
    for (const s of all) {
      expect(s).not.toMatch(/\bmanage\b/i);
      expect(s).not.toMatch(/all-resources/i);
      expect(s).not.toMatch(/\bin tenancy\b/i);
      expect(s).toMatch(
        /^Allow (dynamic-group compute-power-(functions|management)|service faas) to (use|read) /,
      );
    }
  });

  it("lets the functions only list, read, start and stop instances in the target compartment", () => {
    const policy = resource(rendered, "oci_identity_policy.functions_compute[0]");
    expect(policy.compartment_id).toBe(TARGET_COMPARTMENT);
    expect(policy.statements).toEqual([
      `Allow dynamic-group compute-power-functions to use instances in compartment id ${TARGET_COMPARTMENT} where any {request.permission = 'INSTANCE_INSPECT', request.permission = 'INSTANCE_READ', request.permission = 'INSTANCE_POWER_ACTIONS'}`,
    ]);
    // Besides these, the functions may only post their metrics (alerts.test.ts).
    const forFunctions = Object.entries(statements(rendered))
      .filter(([address]) => address !== "oci_identity_policy.alerts[0]")
      .flatMap(([, s]) => s)
      .filter((s) => s.includes("dynamic-group compute-power-functions "));
    expect(forFunctions).toEqual(policy.statements);
  });

  it("covers ListShapes (INSTANCE_INSPECT) for billing-aware stops, and never lets the functions write tags", () => {
    const [statement] = resource(rendered, "oci_identity_policy.functions_compute[0]").statements as string[];
    const permissions = [...(statement ?? "").matchAll(/request\.permission = '([A-Z_]+)'/g)].map(
      (m) => m[1],
    );
    expect(permissions).toContain("INSTANCE_INSPECT");
    expect(permissions).not.toContain("INSTANCE_UPDATE");
    expect(statement).not.toMatch(/\b(manage|tag-namespaces|tag-defaults)\b/);
  });

  it("lets the management instance only read and invoke the two functions", () => {
    const startId = text(rendered.outputs.start_function_id);
    const stopId = text(rendered.outputs.stop_function_id);
    const only = `where any {target.function.id = '${startId}', target.function.id = '${stopId}'}`;
    const policy = resource(rendered, "oci_identity_policy.management_invoke[0]");
    expect(policy.compartment_id).toBe(APP_COMPARTMENT);
    expect(policy.statements).toEqual([
      `Allow dynamic-group compute-power-management to use fn-invocation in compartment id ${APP_COMPARTMENT} ${only}`,
      `Allow dynamic-group compute-power-management to read fn-function in compartment id ${APP_COMPARTMENT} ${only}`,
    ]);
  });

  it("lets the Functions service read only the two repositories", () => {
    const policy = resource(rendered, "oci_identity_policy.functions_service");
    expect(policy.statements).toEqual([
      `Allow service faas to read repos in compartment id ${APP_COMPARTMENT} where any {target.repo.name = 'oci-compute-power/start-compute', target.repo.name = 'oci-compute-power/stop-compute'}`,
      `Allow service faas to use virtual-network-family in compartment id ${APP_COMPARTMENT}`,
    ]);
  });

  it("matches exactly the two functions and exactly the management instance in the dynamic groups", () => {
    const startId = text(rendered.outputs.start_function_id);
    const stopId = text(rendered.outputs.stop_function_id);
    const functions = resource(rendered, "oci_identity_dynamic_group.functions[0]");
    expect(functions.compartment_id).toBe(REQUIRED_VARIABLES.tenancy_ocid);
    expect(functions.matching_rule).toBe(`ANY {resource.id = '${startId}', resource.id = '${stopId}'}`);
    const management = resource(rendered, "oci_identity_dynamic_group.management[0]");
    expect(management.matching_rule).toBe(
      `ANY {instance.id = '${text(rendered.outputs.management_instance_id)}'}`,
    );
  });

  it("configures the application with the guardrail and the functions with image, memory and timeout", () => {
    const app = resource(rendered, "oci_functions_application.this");
    expect(app.config).toEqual({ ALLOWED_COMPARTMENT_IDS: TARGET_COMPARTMENT });
    const functions = resource(rendered, "oci_functions_function.this");
    expect(functions.start).toMatchObject({
      display_name: "start-compute",
      image: REQUIRED_VARIABLES.start_function_image,
      memory_in_mbs: 256,
      timeout_in_seconds: 300,
      application_id: app.id,
    });
    expect(functions.stop).toMatchObject({
      display_name: "stop-compute",
      image: REQUIRED_VARIABLES.stop_function_image,
    });
  });

  it("creates a tagged target instance in the target compartment and a flexible management instance", () => {
    const [target] = resourceList(rendered, "oci_core_instance.target");
    expect(target).toMatchObject({
      compartment_id: TARGET_COMPARTMENT,
      shape: "VM.Standard.E4.Flex",
      freeform_tags: { project: "oci-compute-power", "power-schedule": "office-hours" },
    });
    const management = resource(rendered, "oci_core_instance.management[0]");
    expect(management).toMatchObject({
      compartment_id: APP_COMPARTMENT,
      availability_domain: "Uocm:EU-FRANKFURT-1-AD-1",
    });
  });

  it("renders cloud-init with the OCI CLI, the scripts and the crontab, within OCI's metadata limit", () => {
    const management = resource(rendered, "oci_core_instance.management[0]");
    const metadata = management.metadata;
    expect(isObject(metadata)).toBe(true);
    const encoded = text(isObject(metadata) ? metadata.user_data : null);
    // OCI caps an instance's metadata (user_data, base64, plus every other key) at 32,000 bytes. The
    // management instance sets no other key (no SSH key, asserted below); 28,000 leaves 4,000 bytes of
    // room. It was 24,000 until issue 15 grew schedule.sh (notifications, holidays): ~25,500 now.
    expect(encoded.length).toBeLessThan(28_000);
    const userData = Buffer.from(encoded, "base64").toString("utf8");
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    expect(userData).toContain("'oci-cli==3.95.1'");
    expect(userData).toContain("python3 -m venv /opt/oci-cli");
    expect(userData).toContain("[crontab, -u, opc, /etc/oci-compute-power/crontab]");
    expect(userData).toContain('[install, -d, -o, opc, -g, opc, -m, "0750", "/var/log/oci-compute-power"]');
    const files = writeFiles(userData);
    expect(Object.keys(files)).toEqual([
      "/opt/oci-compute-power/schedule.sh",
      "/opt/oci-compute-power/crontab.sh",
      "/etc/oci-compute-power/crontab",
      "/etc/oci-compute-power/schedules.json",
      "/etc/oci-compute-power/functions.env",
    ]);
    expect(files["/opt/oci-compute-power/schedule.sh"]).toBe(
      readFileSync(join(repoRoot, "scripts/schedule.sh"), "utf8"),
    );
    expect(files["/opt/oci-compute-power/crontab.sh"]).toBe(
      readFileSync(join(repoRoot, "scripts/crontab.sh"), "utf8"),
    );
    expect(files["/etc/oci-compute-power/crontab"]).toBe(text(rendered.outputs.crontab));
    expect(files["/etc/oci-compute-power/functions.env"]).toBe(
      [
        `START_FUNCTION_ID=${text(rendered.outputs.start_function_id)}`,
        `STOP_FUNCTION_ID=${text(rendered.outputs.stop_function_id)}`,
        `TARGET_COMPARTMENT_ID=${TARGET_COMPARTMENT}`,
        "",
      ].join("\n"),
    );
    expect(metadata).not.toHaveProperty("ssh_authorized_keys");
    // A new cloud-init (schedules, schedule.sh, CLI version) replaces the instance: the trigger holds its hash.
    expect(resource(rendered, "terraform_data.management_cloud_init").input).toBe(
      createHash("sha256").update(userData).digest("hex"),
    );
  });

  it("ships what regenerates the same crontab on the instance (crontab.sh, schedules.json, functions.env)", () => {
    const management = resource(rendered, "oci_core_instance.management[0]");
    const metadata = isObject(management.metadata) ? management.metadata : {};
    const files = writeFiles(Buffer.from(text(metadata.user_data), "base64").toString("utf8"));
    const env = Object.fromEntries(
      (files["/etc/oci-compute-power/functions.env"] ?? "")
        .trim()
        .split("\n")
        .map((l) => l.split("=") as [string, string]),
    );
    const regenerated = generatorCrontab(
      JSON.parse(files["/etc/oci-compute-power/schedules.json"] ?? "null") as Json,
      env.START_FUNCTION_ID ?? "",
      env.STOP_FUNCTION_ID ?? "",
      env.TARGET_COMPARTMENT_ID ?? "",
    );
    expect(regenerated).toBe(files["/etc/oci-compute-power/crontab"]);
  });

  it("renders the default schedules as valid cron lines calling schedule.sh with the function OCIDs", () => {
    const crontab = text(rendered.outputs.crontab);
    const entries = cronEntries(crontab);
    expect(entries).toHaveLength(2);
    const ids = [text(rendered.outputs.start_function_id), text(rendered.outputs.stop_function_id)];
    for (const [i, entry] of entries.entries()) {
      expect(entry.tz).toBe("UTC");
      expect(entry.fields.every((f, index) => validCronField(f, index))).toBe(true);
      expect(entry.command.startsWith("/opt/oci-compute-power/schedule.sh --name ")).toBe(true);
      expect(entry.command).toContain(`--function-id ${ids[i]} `);
    }
    expect(crontab).toContain("OCI_BIN=/opt/oci-cli/bin/oci\n");
  });

  it("renders the same crontab as scripts/crontab.sh for the default schedules", async () => {
    const expected = generatorCrontab(
      withTopic(await defaultSchedules(), rendered),
      text(rendered.outputs.start_function_id),
      text(rendered.outputs.stop_function_id),
      TARGET_COMPARTMENT,
    );
    expect(rendered.outputs.crontab).toBe(expected);
  });

  it("renders the same crontab as scripts/crontab.sh for awkward schedules", async () => {
    const schedules: Json = [
      {
        name: "stop-night",
        cron: "30  22 * * mon-fri",
        time_zone: "Europe/Paris",
        function: "stop",
        body: {
          freeform_tags: { team: "o'brien 100% <ops> & co" },
          action: "STOP",
          wait: false,
          timeout_seconds: 120,
        },
      },
      {
        name: "start-two",
        cron: "*/15 6-8 1,15 * *",
        time_zone: "America/New_York",
        function: "start",
        body: { instance_ids: ["ocid1.instance.oc1..a", "ocid1.instance.oc1..b"], dry_run: true },
        notify: "always",
        skip_dates: ["2026-12-25", "2027-01-01"],
        expected_gap_hours: 0,
      },
      {
        name: "elsewhere",
        cron: "0 7 * jan-mar 0",
        time_zone: "UTC",
        function: "start",
        body: {
          compartment_id: "ocid1.compartment.oc1..other",
          defined_tags: { Ops: { Schedule: "weekday" } },
        },
      },
    ];
    const custom = await renderTerraform({
      ...REQUIRED_VARIABLES,
      target_compartment_ocid: TARGET_COMPARTMENT,
      schedules,
    });
    expect(custom.stderr).toBe("");
    expect(custom.code).toBe(0);
    const expected = generatorCrontab(
      withTopic(schedules, custom),
      text(custom.outputs.start_function_id),
      text(custom.outputs.stop_function_id),
      TARGET_COMPARTMENT,
    );
    expect(custom.outputs.crontab).toBe(expected);
    expect(cronEntries(text(custom.outputs.crontab)).map((e) => e.tz)).toEqual([
      "Europe/Paris",
      "America/New_York",
      "UTC",
    ]);
  });
});

describe("first install: terraform apply, scripts/deploy.sh, terraform apply", () => {
  const { start_function_image: _start, stop_function_image: _stop, ...withoutImages } = REQUIRED_VARIABLES;
  const examples = {
    event_trigger_example: { bucket_name: "uploads", function: "start" },
    queue_trigger_example: { function: "stop" },
  };
  const release = (tag: string) => ({
    start_function_image: `fra.ocir.io/stubnamespace/oci-compute-power/start-compute:${tag}`,
    stop_function_image: `fra.ocir.io/stubnamespace/oci-compute-power/stop-compute:${tag}`,
  });

  it("creates everything but what needs the images or the function OCIDs while the images are unknown", async () => {
    const first = await renderTerraform({ ...withoutImages, ...examples });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    for (const address of [
      "oci_core_instance.management",
      "oci_identity_dynamic_group.functions",
      "oci_identity_dynamic_group.management",
      "oci_identity_policy.functions_compute",
      "oci_identity_policy.management_invoke",
      "oci_identity_policy.alerts",
      "oci_events_rule.example",
      "oci_sch_service_connector.queue_example",
    ]) {
      expect(resourceList(first, address), address).toEqual([]);
    }
    expect(resource(first, "oci_functions_function.this")).toEqual({});
    expect(resource(first, "oci_functions_application.this").display_name).toBe("compute-power-app");
    expect(Object.keys(resource(first, "oci_artifacts_container_repository.function")).sort()).toEqual([
      "start",
      "stop",
    ]);
    expect(resource(first, "oci_identity_policy.functions_service").statements).toHaveLength(2);
    expect(resourceList(first, "oci_core_instance.target")).toHaveLength(1);
    expect(resourceList(first, "oci_ons_notification_topic.alerts")).toHaveLength(1);
    expect(Object.keys(resource(first, "oci_monitoring_alarm.dead_mans_switch"))).toEqual([]);
    const o = first.outputs;
    for (const name of ["start_function_id", "stop_function_id", "management_instance_id", "crontab"])
      expect(o[name] ?? null, name).toBeNull();
    expect(o.fn_invoke_commands).toEqual({});
    expect(o.oci_invoke_commands).toEqual({});
    expect(o.deploy).toEqual({
      region: "eu-frankfurt-1",
      compartment_id: APP_COMPARTMENT,
      oci_config_file_profile: "DEFAULT",
      functions_api_url: "https://functions.eu-frankfurt-1.oci.oraclecloud.com",
      ocir_host: "fra.ocir.io",
      namespace: "stubnamespace",
      registry: "fra.ocir.io/stubnamespace/oci-compute-power",
      application_name: "compute-power-app",
      images: { "start-compute": null, "stop-compute": null },
    });
    // test/scripts/deploy.test.ts's canned `terraform output -json` has the same shape.
    const fixture = JSON.parse(
      readFileSync(join(repoRoot, "test/scripts/fixtures/terraform-output-first-install.json"), "utf8"),
    ) as { deploy: { value: JsonObject } };
    expect(Object.keys(fixture.deploy.value).sort()).toEqual(
      Object.keys(asObject(o.deploy, "deploy")).sort(),
    );
  });

  it("creates the functions, the management instance and the IAM naming them once both images are known", async () => {
    const second = await renderTerraform({ ...withoutImages, ...examples, ...release("0.1.0-abc1234") });
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    const functions = resource(second, "oci_functions_function.this");
    expect(Object.keys(functions).sort()).toEqual(["start", "stop"]);
    expect(functions.start).toMatchObject({ image: release("0.1.0-abc1234").start_function_image });
    const startId = text(second.outputs.start_function_id);
    expect(text(second.outputs.crontab)).toContain(`--function-id ${startId} `);
    expect(resource(second, "oci_identity_dynamic_group.functions[0]").matching_rule).toContain(startId);
    expect(resource(second, "oci_identity_dynamic_group.management[0]").matching_rule).toBe(
      `ANY {instance.id = '${text(second.outputs.management_instance_id)}'}`,
    );
    for (const address of ["oci_events_rule.example", "oci_sch_service_connector.queue_example"])
      expect(resourceList(second, address), address).toHaveLength(1);
    expect(second.outputs.deploy).toMatchObject({
      images: {
        "start-compute": release("0.1.0-abc1234").start_function_image,
        "stop-compute": release("0.1.0-abc1234").stop_function_image,
      },
    });
  });

  it("moves a later release's images forward without touching the management instance's cloud-init", async () => {
    const [before, after] = await Promise.all([
      renderTerraform({ ...withoutImages, ...release("0.1.0-abc1234") }),
      renderTerraform({ ...withoutImages, ...release("0.2.0-def5678") }),
    ]);
    expect([before.code, after.code]).toEqual([0, 0]);
    expect(resource(after, "oci_functions_function.this").stop).toMatchObject({
      image: release("0.2.0-def5678").stop_function_image,
    });
    // The replacement trigger (the cloud-init hash) and the function OCIDs do not change.
    expect(resource(after, "terraform_data.management_cloud_init").input).toBe(
      resource(before, "terraform_data.management_cloud_init").input,
    );
    expect(after.outputs.start_function_id).toBe(before.outputs.start_function_id);
  });

  it("refuses one image without the other, naming both variables", async () => {
    const result = await renderTerraform({
      ...withoutImages,
      start_function_image: release("0.1.0-abc1234").start_function_image,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.replace(/\s+/g, " ")).toContain(
      "start_function_image and stop_function_image go together",
    );
  });
});

describe("cron validation: Terraform and scripts/crontab.sh agree", () => {
  it.each<[string, boolean]>([
    ["0 7 * * 1-5", true],
    ["*/15 6-8 1,15 * *", true],
    ["0 7 * jan-mar 0", true],
    ["30 22 * * mon-fri", true],
    ["0 0 31 12 7", true],
    ["5-10/2 * * * *", true],
    ["0 7 * * SUN", true],
    ["60 7 * * *", false],
    ["0 24 * * *", false],
    ["0 7 0 * *", false],
    ["0 7 * 13 *", false],
    ["0 7 * * 8", false],
    ["0 7 * * fri-mon", false],
    ["0 9-5 * * *", false],
    ["0 7 * * funday", false],
    ["0 7 mon * *", false],
    ["*/0 * * * *", false],
    ["1-2-3 * * * *", false],
    ["0,,5 * * * *", false],
    ["0 7 * * * *", false],
    ["0 7 * *", false],
    ["@daily", false],
  ])("%s is valid: %s", async (cron, valid) => {
    const schedules = [{ name: "s", cron, time_zone: "UTC", function: "start", body: {} }];
    const terraform = await renderTerraform({ ...REQUIRED_VARIABLES, schedules });
    const generator = runScript(
      "crontab.sh",
      [
        "--schedules",
        "-",
        "--start-function-id",
        "ocid1.fnfunc.oc1..a",
        "--stop-function-id",
        "ocid1.fnfunc.oc1..b",
        "--compartment-id",
        TARGET_COMPARTMENT,
      ],
      { input: JSON.stringify(schedules) },
    );
    expect({ terraform: terraform.code === 0, generator: generator.code === 0 }).toEqual({
      terraform: valid,
      generator: valid,
    });
    if (!valid) expect(terraform.stderr.replace(/\s+/g, " ")).toMatch(/Each schedule cron (field )?must/);
  });
});

describe("terraform/terraform.tfvars.example", () => {
  it("sets only declared variables, all the required ones, and renders", async () => {
    const parsed = (await parse(
      "terraform.tfvars.example",
      readFileSync(join(repoRoot, "terraform/terraform.tfvars.example"), "utf8"),
    )) as Json;
    const values = isObject(parsed) ? parsed : {};
    const config = await loadTerraform();
    for (const name of Object.keys(values))
      expect(config.variables, `${name} is not a variable`).toHaveProperty(name);
    for (const [name, body] of Object.entries(config.variables)) {
      if (!("default" in body)) expect(values, `required variable ${name} missing`).toHaveProperty(name);
    }
    // The first apply: the example sets no image, so no function and no crontab yet.
    expect(values).not.toHaveProperty("start_function_image");
    const first = await renderTerraform(values);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.outputs.crontab ?? null).toBeNull();
    // The apply after scripts/deploy.sh, which adds images.auto.tfvars.json.
    const result = await renderTerraform({
      ...values,
      start_function_image: "fra.ocir.io/ns/oci-compute-power/start-compute:0.1.0-abc1234",
      stop_function_image: "fra.ocir.io/ns/oci-compute-power/stop-compute:0.1.0-abc1234",
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(cronEntries(text(result.outputs.crontab)).map((e) => e.tz)).toEqual([
      "Europe/Berlin",
      "Europe/Berlin",
    ]);
  });
});

describe("power_kinds: the least-privilege statements of each kind", () => {
  it("adds, in kind order and without repeats, exactly the statements each kind needs", async () => {
    const result = await renderTerraform({
      ...REQUIRED_VARIABLES,
      target_compartment_ocid: TARGET_COMPARTMENT,
      power_kinds: ["container_instance", "node_pool", "instance_pool", "instance"],
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const policy = resource(result, "oci_identity_policy.functions_compute[0]");
    const allow = (rest: string) =>
      `Allow dynamic-group compute-power-functions to ${rest} in compartment id ${TARGET_COMPARTMENT}`;
    const only = (...permissions: string[]) =>
      ` where any {${permissions.map((p) => `request.permission = '${p}'`).join(", ")}}`;
    expect(policy.statements).toEqual([
      allow("use instances") + only("INSTANCE_INSPECT", "INSTANCE_READ", "INSTANCE_POWER_ACTIONS"),
      allow("use instance-pools") +
        only("INSTANCE_POOL_INSPECT", "INSTANCE_POOL_READ", "INSTANCE_POOL_POWER_ACTIONS"),
      allow("manage cluster-node-pools") +
        only("CLUSTER_NODE_POOL_INSPECT", "CLUSTER_NODE_POOL_READ", "CLUSTER_NODE_POOL_UPDATE"),
      allow("read cluster-work-requests") + only("CLUSTER_WORK_REQUEST_INSPECT", "CLUSTER_WORK_REQUEST_READ"),
      allow("manage instance-family"),
      allow("use subnets"),
      allow("use vnics"),
      allow("inspect compartments"),
      allow("use compute-container-instances"),
    ]);
    // Nothing of it reaches beyond the target compartment.
    for (const s of Object.values(statements(result)).flat()) expect(s).not.toMatch(/\bin tenancy\b/);
  });

  it.each([
    [["instance_pool"], ["use instance-pools", "use instances"]],
    [["container_instance"], ["use compute-container-instances"]],
  ])(
    "%j alone grants only its own statements (pools also need their members' power actions)",
    async (kinds, verbs) => {
      const result = await renderTerraform({
        ...REQUIRED_VARIABLES,
        target_compartment_ocid: TARGET_COMPARTMENT,
        power_kinds: kinds,
      });
      expect(result.code).toBe(0);
      const policy = resource(result, "oci_identity_policy.functions_compute[0]");
      const granted = (policy.statements as string[]).map((s) => /to (\w+ [\w-]+) in /.exec(s)?.[1]);
      expect(granted.sort()).toEqual([...verbs].sort());
    },
  );
});

describe("terraform/ variables refuse bad values (real validation blocks)", () => {
  const schedule = { name: "s", cron: "0 7 * * *", time_zone: "UTC", function: "start", body: {} };
  it.each<[string, Record<string, Json>, string]>([
    [
      "SSH from anywhere",
      { ssh_ingress_cidr: "0.0.0.0/0" },
      "ssh_ingress_cidr must be a CIDR block narrower than /0",
    ],
    [
      "a function timeout above 300 s",
      { function_timeout_in_seconds: 301 },
      "function_timeout_in_seconds must be between 5 and 300",
    ],
    [
      "an unsupported function memory",
      { function_memory_in_mbs: 100 },
      "function_memory_in_mbs must be one of",
    ],
    [
      "a 4-field cron",
      { schedules: [{ ...schedule, cron: "0 7 * *" }] },
      "Each schedule cron must have 5 fields",
    ],
    [
      "an unknown function",
      { schedules: [{ ...schedule, function: "restart" }] },
      'Each schedule function must be "start" or "stop"',
    ],
    ["duplicate schedule names", { schedules: [schedule, schedule] }, "Schedule names must be unique"],
    ["a bad schedule name", { schedules: [{ ...schedule, name: "Not OK" }] }, "Each schedule name must be"],
    [
      "a bad time zone",
      { schedules: [{ ...schedule, time_zone: "CET+1 " }] },
      "Each schedule time_zone must be an IANA name",
    ],
    [
      "an unknown power kind",
      { power_kinds: ["instance", "vm_scale_set"] },
      "power_kinds must be a non-empty list, without repeats, of instance",
    ],
    ["no power kind", { power_kinds: [] }, "power_kinds must be a non-empty list"],
    [
      "ALLOWED_COMPARTMENT_IDS in function_config",
      { function_config: { ALLOWED_COMPARTMENT_IDS: "x" } },
      "do not set it in function_config",
    ],
  ])("refuses %s", async (_label, overrides, message) => {
    const result = await renderTerraform({ ...REQUIRED_VARIABLES, ...overrides });
    expect(result.code).not.toBe(0);
    expect(result.stderr.replace(/\s+/g, " ")).toContain(message);
  });
});

describe("terraform/ network and targets options", () => {
  it("uses existing subnets instead of creating a VCN", async () => {
    const result = await renderTerraform({
      ...REQUIRED_VARIABLES,
      existing_functions_subnet_id: "ocid1.subnet.oc1..functions",
      existing_management_subnet_id: "ocid1.subnet.oc1..management",
      target_instance_count: 0,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const address of [
      "oci_core_vcn.this",
      "oci_core_subnet.functions",
      "oci_core_nat_gateway.this",
      "oci_core_security_list.management",
    ]) {
      expect(resourceList(result, address)).toEqual([]);
    }
    expect(resource(result, "oci_functions_application.this").subnet_ids).toEqual([
      "ocid1.subnet.oc1..functions",
    ]);
    expect(result.outputs.target_instance_ids).toEqual([]);
  });

  it.each([
    ["only the functions subnet", { existing_functions_subnet_id: "ocid1.subnet.oc1..functions" }],
    ["only the management subnet", { existing_management_subnet_id: "ocid1.subnet.oc1..management" }],
  ])("refuses half an existing network (%s), naming both variables", async (_label, half) => {
    const result = await renderTerraform({ ...REQUIRED_VARIABLES, ...half });
    expect(result.code).not.toBe(0);
    expect(result.stderr.replace(/\s+/g, " ")).toContain(
      "existing_functions_subnet_id and existing_management_subnet_id go together",
    );
  });

  it("refuses an availability_domain_number beyond a single-AD region's count, with the count", async () => {
    const singleAd = {
      oci_identity_availability_domains: '{ availability_domains = [{ name = "Uocm:EU-MILAN-1-AD-1" }] }',
    };
    const refused = await renderTerraform({ ...REQUIRED_VARIABLES, availability_domain_number: 2 }, singleAd);
    expect(refused.code).not.toBe(0);
    const message = refused.stderr.replace(/\s+/g, " ");
    expect(message).toContain(
      "availability_domain_number is 2, but region eu-frankfurt-1 has 1 availability domain(s)",
    );
    expect(message).not.toContain("Invalid index");
    const ok = await renderTerraform({ ...REQUIRED_VARIABLES, availability_domain_number: 1 }, singleAd);
    expect(ok.code, ok.stderr).toBe(0);
    expect(resource(ok, "oci_core_instance.management[0]").availability_domain).toBe("Uocm:EU-MILAN-1-AD-1");
  });

  it("creates a private VCN with NAT and service gateways, and a public management subnet by default", async () => {
    const result = await renderTerraform({
      ...REQUIRED_VARIABLES,
      target_instance_count: 3,
      ssh_ingress_cidr: "203.0.113.7/32",
    });
    expect(result.code).toBe(0);
    expect(resourceList(result, "oci_core_vcn.this")).toHaveLength(1);
    expect(resourceList(result, "oci_core_nat_gateway.this")).toHaveLength(1);
    expect(resourceList(result, "oci_core_service_gateway.this")).toHaveLength(1);
    expect(resourceList(result, "oci_core_internet_gateway.this")).toHaveLength(1);
    const [functionsSubnet] = resourceList(result, "oci_core_subnet.functions");
    expect(functionsSubnet).toMatchObject({ prohibit_public_ip_on_vnic: true });
    const [managementSubnet] = resourceList(result, "oci_core_subnet.management");
    expect(managementSubnet).toMatchObject({ prohibit_public_ip_on_vnic: false });
    expect(result.outputs.target_instance_ids).toHaveLength(3);
    expect(result.outputs.ssh_command).toBe("ssh opc@203.0.113.10");
  });

  it("keeps the management instance private without a public IP", async () => {
    const result = await renderTerraform({ ...REQUIRED_VARIABLES, management_assign_public_ip: false });
    expect(result.code).toBe(0);
    expect(resourceList(result, "oci_core_internet_gateway.this")).toEqual([]);
    const [managementSubnet] = resourceList(result, "oci_core_subnet.management");
    const [privateRoutes] = resourceList(result, "oci_core_route_table.private");
    expect(managementSubnet).toMatchObject({ prohibit_public_ip_on_vnic: true });
    expect(isObject(managementSubnet) && isObject(privateRoutes) ? managementSubnet.route_table_id : "").toBe(
      isObject(privateRoutes) ? privateRoutes.id : "missing",
    );
    // Terraform leaves a null output out of `terraform output -json`.
    expect(result.outputs.management_public_ip ?? null).toBeNull();
    expect(result.outputs.ssh_command).toBe("SSH is closed (ssh_ingress_cidr is null)");
  });
});
