/**
 * terraform/alerts.tf and the alert fields of the schedules, rendered by the real Terraform (provider
 * stubbed): the topic, the e-mail subscription, the alarms (whose generated queries are evaluated by
 * the emulator's alarm evaluator against datapoints), the policies, the off-by-default examples, the
 * validation of notify / skip_dates / expected_gap_hours, and every argument of these resources checked
 * against the held provider schemas (test/terraform/schemas, oracle/oci 7.32.0 and 8.28.0).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateAlarm, parseAlarmQuery, type StoredPoint } from "../../emulator/src/alarm-query.js";
import { isObject, type JsonObject, loadTerraform, repoRoot } from "./hcl.js";
import { checkConfig, loadProviderSchema, PROVIDER_VERSIONS } from "./provider-schema.js";
import { REQUIRED_VARIABLES, type RenderResult, renderTerraform } from "./render.js";

const APP = REQUIRED_VARIABLES.compartment_ocid as string;

const schedule = (name: string, cron: string, extra: JsonObject = {}): JsonObject => ({
  name,
  cron,
  time_zone: "Europe/Paris",
  function: "start",
  body: { instance_id: "ocid1.instance.oc1..a" },
  ...extra,
});

function resources(result: RenderResult): JsonObject {
  const r = result.outputs.resources;
  if (!isObject(r)) throw new Error(`no resources in the render: ${result.stderr}`);
  return r;
}

function list(result: RenderResult, address: string): JsonObject[] {
  const v = resources(result)[address];
  if (Array.isArray(v)) return v.filter(isObject);
  if (isObject(v)) return Object.values(v).filter(isObject);
  throw new Error(`${address} is not a counted or for_each resource`);
}

function keyed(result: RenderResult, address: string): JsonObject {
  const v = resources(result)[address];
  if (!isObject(v)) throw new Error(`${address} is not a for_each resource`);
  return v;
}

describe("terraform/alerts.tf rendered (provider stubbed)", () => {
  let full: RenderResult;
  let off: RenderResult;

  beforeAll(async () => {
    [full, off] = await Promise.all([
      renderTerraform({
        ...REQUIRED_VARIABLES,
        notification_email: "ops@example.com",
        event_trigger_example: { bucket_name: "incoming" },
        queue_trigger_example: { function: "stop" },
        schedules: [
          schedule("daily", "0 7 * * *"),
          schedule("weekdays", "0 19 * * mon-fri", { function: "stop" }),
          schedule("monthly", "0 7 1 * *"),
          schedule("hourly", "0 * * * *", { expected_gap_hours: 1 }),
          schedule("quiet", "0 6 * * *", { expected_gap_hours: 0, notify: "always" }),
        ],
      }),
      renderTerraform({ ...REQUIRED_VARIABLES, alerts_enabled: false }),
    ]);
    for (const r of [full, off]) if (r.code !== 0) throw new Error(`terraform apply failed:\n${r.stderr}`);
  }, 120_000);

  it("creates the topic and subscribes notification_email to it", () => {
    const [topic] = list(full, "oci_ons_notification_topic.alerts");
    expect(topic).toMatchObject({ compartment_id: APP });
    expect(list(full, "oci_ons_subscription.email")).toEqual([
      expect.objectContaining({ protocol: "EMAIL", endpoint: "ops@example.com", topic_id: topic?.id }),
    ]);
  });

  it("alarms on failed > 0 per function and schedule, in the functions' namespace and compartment", () => {
    const [topic] = list(full, "oci_ons_notification_topic.alerts");
    expect(list(full, "oci_monitoring_alarm.failed")).toEqual([
      expect.objectContaining({
        namespace: "compute_power",
        metric_compartment_id: APP,
        query: "failed[5m].groupBy(function, schedule).sum() > 0",
        destinations: [topic?.id],
        is_enabled: true,
        severity: "CRITICAL",
      }),
    ]);
  });

  it("gives each schedule a dead-man's switch over its gap plus the margin, none where the gap is unknown or 0", () => {
    const alarms = keyed(full, "oci_monitoring_alarm.dead_mans_switch");
    const queries = Object.fromEntries(
      Object.entries(alarms).map(([k, v]) => [k, isObject(v) ? v.query : null]),
    );
    expect(queries).toEqual({
      daily: 'invocations[1500m]{schedule = "daily"}.grouping().absent()',
      weekdays: 'invocations[4380m]{schedule = "weekdays"}.grouping().absent()',
      hourly: 'invocations[120m]{schedule = "hourly"}.grouping().absent()',
    });
  });

  it("the generated queries fire exactly when the emulator's stored datapoints say they should", () => {
    const alarms = keyed(full, "oci_monitoring_alarm.dead_mans_switch");
    const daily = alarms.daily;
    const [failedAlarm] = list(full, "oci_monitoring_alarm.failed");
    const deadMan = parseAlarmQuery(String(isObject(daily) ? daily.query : ""));
    const failed = parseAlarmQuery(String(failedAlarm?.query));
    const t0 = Date.parse("2026-12-01T07:00:00Z");
    const point = (name: string, value: number, at: number, schedule = "daily"): StoredPoint => ({
      namespace: "compute_power",
      compartmentId: APP,
      name,
      dimensions: { function: "start-compute", action: "START", region: "eu-frankfurt-1", schedule },
      timestamp: at,
      value,
      count: 1,
    });
    const day = 24 * 3_600_000;
    const runs = [0, 1, 2].map((d) => point("invocations", 1, t0 + d * day));
    // Runs every day: quiet. The run of day 3 never comes: firing 25 h after the last one.
    expect(evaluateAlarm(deadMan, runs, t0 + 2 * day + 60_000).firing).toBe(false);
    expect(evaluateAlarm(deadMan, runs, t0 + 3 * day + 30 * 60_000).firing).toBe(false);
    expect(evaluateAlarm(deadMan, runs, t0 + 3 * day + 61 * 60_000).firing).toBe(true);
    // Another schedule's heartbeat does not keep this one quiet.
    const others = [point("invocations", 1, t0 + 3 * day, "weekdays")];
    expect(evaluateAlarm(deadMan, [...runs, ...others], t0 + 3 * day + 61 * 60_000).firing).toBe(true);

    const ok = point("failed", 0, t0);
    const bad = point("failed", 3, t0 + day);
    expect(evaluateAlarm(failed, [ok], t0 + 60_000).firing).toBe(false);
    expect(evaluateAlarm(failed, [ok, bad], t0 + day + 60_000).firing).toBe(true);
  });

  it("lets the management instance only publish, and the functions only post metrics in their namespace", () => {
    const [policy] = list(full, "oci_identity_policy.alerts");
    expect(policy?.compartment_id).toBe(APP);
    expect(policy?.statements).toEqual([
      `Allow dynamic-group compute-power-management to use ons-topics in compartment id ${APP} where request.permission = 'ONS_TOPIC_PUBLISH'`,
      `Allow dynamic-group compute-power-functions to use metrics in compartment id ${APP} where target.metrics.namespace = 'compute_power'`,
    ]);
  });

  it("points every cron line at the topic; notify = always and skip_dates only where set", () => {
    const [topic] = list(full, "oci_ons_notification_topic.alerts");
    const crontab = String(full.outputs.crontab);
    const entries = crontab.split("\n").filter((l) => /^[0-9*]/.test(l));
    expect(entries).toHaveLength(5);
    for (const e of entries) expect(e).toContain(` --topic-id ${topic?.id} `);
    expect(entries.filter((e) => e.includes("--notify always"))).toEqual([
      expect.stringContaining("--name quiet "),
    ]);
    expect(String(off.outputs.crontab)).not.toContain("--topic-id");
  });

  it("builds the examples only when asked: an Events rule and a Queue with a Connector Hub to the function", () => {
    const [rule] = list(full, "oci_events_rule.example");
    expect(JSON.parse(String(rule?.condition))).toEqual({
      eventType: ["com.oraclecloud.objectstorage.createobject"],
      data: { additionalDetails: { bucketName: ["incoming"] } },
    });
    const [connector] = list(full, "oci_sch_service_connector.queue_example");
    expect(connector).toMatchObject({ display_name: "compute-power-queue-to-stop", compartment_id: APP });
    // The stub renders arguments, not blocks: the source and target blocks are read from the HCL.
    const hcl = readFileSync(join(repoRoot, "terraform/alerts.tf"), "utf8");
    expect(hcl).toContain("config_map  = jsonencode({ queueId = oci_queue_queue.example[0].id })");
    expect(hcl).toContain("function_id       = local.function_ids[var.queue_trigger_example.function]");
    for (const address of [
      "oci_events_rule.example",
      "oci_queue_queue.example",
      "oci_sch_service_connector.queue_example",
      "oci_identity_policy.queue_example",
    ]) {
      expect(list(off, address), address).toEqual([]);
    }
  });

  it("follows the functions' own METRICS_NAMESPACE and METRICS_COMPARTMENT_ID (function_config)", async () => {
    const metricsCompartment = "ocid1.compartment.oc1..aaaaaaaametrics";
    const custom = await renderTerraform({
      ...REQUIRED_VARIABLES,
      function_config: { METRICS_NAMESPACE: "power_ops", METRICS_COMPARTMENT_ID: metricsCompartment },
    });
    expect(custom.stderr).toBe("");
    const [policy] = list(custom, "oci_identity_policy.alerts");
    expect((policy?.statements as string[] | undefined)?.[1]).toBe(
      `Allow dynamic-group compute-power-functions to use metrics in compartment id ${metricsCompartment} where target.metrics.namespace = 'power_ops'`,
    );
    const [alarm] = list(custom, "oci_monitoring_alarm.failed");
    expect(alarm).toMatchObject({ namespace: "power_ops", metric_compartment_id: metricsCompartment });
  }, 60_000);

  it("alerts_enabled = false creates no topic, alarm or alerts policy", () => {
    for (const address of [
      "oci_ons_notification_topic.alerts",
      "oci_ons_subscription.email",
      "oci_monitoring_alarm.failed",
      "oci_monitoring_alarm.dead_mans_switch",
      "oci_identity_policy.alerts",
    ]) {
      expect(list(off, address), address).toEqual([]);
    }
  });
});

describe("schedule alert fields: Terraform refuses what crontab.sh refuses", () => {
  it.each<[string, JsonObject, RegExp]>([
    [
      "a date that does not exist",
      { skip_dates: ["2026-02-30"] },
      /skip_dates entry must be a date[\s\S]*bad: 2026-02-30/,
    ],
    ["a date in another format", { skip_dates: ["25/12/2026"] }, /bad: 25\/12\/2026/],
    ["notify never", { notify: "never" }, /notify must be "failures" or "always"/],
    ["a gap over 71 h", { expected_gap_hours: 72 }, /expected_gap_hours must be a whole number/],
  ])(
    "refuses %s, naming the schedule and the value where it can",
    async (_what, extra, message) => {
      const result = await renderTerraform({
        ...REQUIRED_VARIABLES,
        schedules: [schedule("bad", "0 7 * * *", extra)],
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr.replace(/\s*│\s*/g, " ")).toMatch(message);
    },
    60_000,
  );

  it("refuses a malformed e-mail", async () => {
    const result = await renderTerraform({ ...REQUIRED_VARIABLES, notification_email: "not-an-address" });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("notification_email must be an e-mail address");
  }, 60_000);
});

describe("terraform/alerts.tf against the held oracle/oci provider schemas", () => {
  it("has every alerts resource type but the connector, and no schema problem in them", async () => {
    const config = await loadTerraform();
    const alertTypes = [
      "oci_ons_notification_topic",
      "oci_ons_subscription",
      "oci_monitoring_alarm",
      "oci_events_rule",
      "oci_queue_queue",
      "oci_identity_policy",
    ];
    for (const version of PROVIDER_VERSIONS) {
      const schema = loadProviderSchema(version);
      for (const type of alertTypes) expect(schema.resources[type], `${type} in ${version}`).toBeDefined();
      const problems = checkConfig(config, schema).filter((p) => alertTypes.some((t) => p.startsWith(t)));
      expect(problems).toEqual([]);
      // The one alerts resource the held schemas lack: written from the provider's docs, said so in the file.
      expect(schema.resources.oci_sch_service_connector).toBeUndefined();
    }
    expect(readFileSync(join(repoRoot, "terraform/alerts.tf"), "utf8")).toContain(
      "Not in the filtered provider schema the tests check against",
    );
  });
});
