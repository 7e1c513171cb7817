import { describe, expect, it } from "vitest";
import {
  AlarmQueryError,
  evaluateAlarm,
  parseAlarmQuery,
  type StoredPoint,
} from "../../emulator/src/alarm-query.js";

const MIN = 60_000;
const point = (name: string, value: number, at: number, dims: Record<string, string> = {}): StoredPoint => ({
  namespace: "compute_power",
  compartmentId: "ocid1.compartment.oc1..a",
  name,
  dimensions: { function: "start-compute", ...dims },
  timestamp: at,
  value,
  count: 1,
});

describe("parseAlarmQuery", () => {
  it("reads the interval, filters, grouping, statistic, absence period and comparison", () => {
    expect(
      parseAlarmQuery('failed[5m]{function = "stop-compute"}.groupBy(function, schedule).sum() >= 2'),
    ).toEqual({
      metric: "failed",
      intervalMs: 5 * MIN,
      filters: { function: "stop-compute" },
      groupBy: ["function", "schedule"],
      statistic: "sum",
      absenceMs: 120 * MIN,
      comparison: { op: ">=", value: 2 },
    });
    expect(parseAlarmQuery("invocations[1d].grouping().absent(3d)")).toMatchObject({
      intervalMs: 1440 * MIN,
      groupBy: undefined,
      statistic: "absent",
      absenceMs: 3 * 1440 * MIN,
    });
  });

  it.each([
    ["failed[5m].rate() > 0", /supported/],
    ["failed[5m].sum()", /needs a comparison/],
    ["invocations[1h].absent() > 0", /takes no comparison/],
    ["failed[5m].sum(2h) > 0", /takes no argument/],
    ["invocations[1h].absent(4d)", /1m to 3d/],
    ["failed[0m].sum() > 0", /at least 1m/],
    ["failed[5m]{function = stop}.sum() > 0", /must be key = "value"/],
  ])("refuses %s", (query, message) => {
    expect(() => parseAlarmQuery(query)).toThrow(AlarmQueryError);
    expect(() => parseAlarmQuery(query)).toThrow(message);
  });
});

describe("evaluateAlarm", () => {
  const deadMan = parseAlarmQuery("invocations[60m].groupBy(function).absent(2h)");

  it("absent(): quiet within the interval, firing after it, silent again after the detection period", () => {
    const points = [point("invocations", 1, 0)];
    expect(evaluateAlarm(deadMan, points, 59 * MIN).firing).toBe(false);
    expect(evaluateAlarm(deadMan, points, 61 * MIN)).toMatchObject({
      firing: true,
      streams: [{ dimensions: { function: "start-compute" }, value: 1 }],
    });
    expect(evaluateAlarm(deadMan, points, 181 * MIN)).toMatchObject({
      firing: false,
      streams: [{ value: null }],
    });
  });

  it("threshold: only datapoints inside (at - interval, at] count, per group", () => {
    const q = parseAlarmQuery("failed[5m].groupBy(schedule).max() > 1");
    const points = [
      point("failed", 3, MIN, { schedule: "a" }),
      point("failed", 1, 4 * MIN, { schedule: "b" }),
      point("changed", 9, 4 * MIN, { schedule: "b" }),
    ];
    const at5 = evaluateAlarm(q, points, 5 * MIN);
    expect(at5.streams.map((s) => [s.dimensions.schedule, s.value, s.firing])).toEqual([
      ["a", 3, true],
      ["b", 1, false],
    ]);
    expect(evaluateAlarm(q, points, 6 * MIN).streams.map((s) => s.dimensions.schedule)).toEqual(["b"]);
    expect(evaluateAlarm(q, [], 0)).toMatchObject({
      firing: false,
      reason: "no datapoint in the interval: nothing to evaluate",
    });
  });
});
