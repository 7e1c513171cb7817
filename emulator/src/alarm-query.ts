/**
 * Enough of OCI Monitoring's MQL to evaluate the alarms terraform/alerts.tf creates, against the
 * datapoints the emulator stored: a threshold rule
 *   failed[5m]{schedule = "x"}.groupBy(schedule).sum() > 0
 * and an absence rule (the dead-man's switch)
 *   invocations[1500m]{schedule = "x"}.grouping().absent()
 * Pure: the datapoints and the evaluation time are passed in. Anything outside this subset is refused
 * with a message saying what is supported, never evaluated approximately.
 */

export interface StoredPoint {
  namespace: string;
  compartmentId: string;
  name: string;
  dimensions: Record<string, string>;
  /** epoch ms */
  timestamp: number;
  value: number;
  count: number;
}

export type Statistic = "sum" | "count" | "max" | "min" | "mean" | "absent";
type Comparator = ">" | ">=" | "<" | "<=" | "==" | "!=";

export interface AlarmQuery {
  metric: string;
  intervalMs: number;
  filters: Record<string, string>;
  /** undefined: grouping() or no grouping, one stream for everything that matches. */
  groupBy: string[] | undefined;
  statistic: Statistic;
  /** absent() only: the absence detection period (default two hours, 1m..3d). */
  absenceMs: number;
  comparison: { op: Comparator; value: number } | undefined;
}

export interface StreamResult {
  dimensions: Record<string, string>;
  value: number | null;
  firing: boolean;
  reason: string;
}

export interface Evaluation {
  firing: boolean;
  streams: StreamResult[];
  reason: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { m: MINUTE_MS, h: 3_600_000, d: DAY_MS };
const DEFAULT_ABSENCE_MS = 2 * 3_600_000;
const QUERY_RE =
  /^([A-Za-z][A-Za-z0-9._$-]*)\[(\d+)([mhd])\](?:\{([^}]*)\})?(?:\.(groupBy\(([^)]*)\)|grouping\(\)))?\.(sum|count|max|min|mean|absent)\(\s*(?:(\d+)([mhd]))?\s*\)(?:\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?))?$/;

export class AlarmQueryError extends Error {
  override readonly name = "AlarmQueryError";
}

function parseFilters(text: string | undefined): Record<string, string> {
  const filters: Record<string, string> = {};
  if (text === undefined || text.trim() === "") return filters;
  for (const part of text.split(",")) {
    const m = /^\s*([A-Za-z0-9_.$-]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!m?.[1] || m[2] === undefined) {
      throw new AlarmQueryError(`dimension filter ${JSON.stringify(part.trim())} must be key = "value"`);
    }
    filters[m[1]] = m[2];
  }
  return filters;
}

export function parseAlarmQuery(query: string): AlarmQuery {
  const m = QUERY_RE.exec(query.trim());
  if (!m) {
    throw new AlarmQueryError(
      'supported: metric[N{m,h,d}]{key = "value", ...}.groupBy(dims)|grouping().sum|count|max|min|mean() <op> number, or ….absent([period])',
    );
  }
  const [
    ,
    metric = "",
    n = "0",
    unit = "m",
    filterText,
    grouping,
    groupText,
    stat,
    aN,
    aUnit,
    op,
    threshold,
  ] = m;
  const statistic = stat as Statistic;
  if (statistic === "absent" && op !== undefined) throw new AlarmQueryError("absent() takes no comparison");
  if (statistic !== "absent" && op === undefined)
    throw new AlarmQueryError(`${statistic}() needs a comparison`);
  if (statistic !== "absent" && aN !== undefined)
    throw new AlarmQueryError(`${statistic}() takes no argument`);
  const absenceMs = aN !== undefined ? Number(aN) * (UNIT_MS[aUnit ?? "m"] ?? 0) : DEFAULT_ABSENCE_MS;
  if (absenceMs < MINUTE_MS || absenceMs > 3 * DAY_MS) {
    throw new AlarmQueryError("the absence detection period must be 1m to 3d");
  }
  const intervalMs = Number(n) * (UNIT_MS[unit] ?? 0);
  if (intervalMs < MINUTE_MS) throw new AlarmQueryError("the interval must be at least 1m");
  return {
    metric,
    intervalMs,
    filters: parseFilters(filterText),
    groupBy: grouping?.startsWith("groupBy")
      ? (groupText ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
    statistic,
    absenceMs,
    comparison: op === undefined ? undefined : { op: op as Comparator, value: Number(threshold) },
  };
}

function compare(a: number, op: Comparator, b: number): boolean {
  switch (op) {
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
  }
}

function aggregate(points: readonly StoredPoint[], stat: Exclude<Statistic, "absent">): number {
  const values = points.map((p) => p.value);
  switch (stat) {
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "count":
      return points.reduce((a, p) => a + p.count, 0);
    case "max":
      return Math.max(...values);
    case "min":
      return Math.min(...values);
    case "mean":
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

function groupKey(dims: Record<string, string>, by: readonly string[] | undefined): Record<string, string> {
  if (by === undefined) return {};
  return Object.fromEntries(by.map((k) => [k, dims[k] ?? ""]));
}

/** Groups the matching points into streams, keyed by the groupBy dimensions. */
function streamsOf(q: AlarmQuery, points: readonly StoredPoint[]) {
  const streams = new Map<string, { dimensions: Record<string, string>; points: StoredPoint[] }>();
  for (const p of points) {
    if (p.name !== q.metric) continue;
    if (!Object.entries(q.filters).every(([k, v]) => p.dimensions[k] === v)) continue;
    const dimensions = groupKey(p.dimensions, q.groupBy);
    const key = JSON.stringify(dimensions);
    const s = streams.get(key) ?? { dimensions, points: [] };
    s.points.push(p);
    streams.set(key, s);
  }
  return [...streams.values()];
}

function absentStream(q: AlarmQuery, dimensions: Record<string, string>, pts: StoredPoint[], at: number) {
  const past = pts.filter((p) => p.timestamp <= at);
  const last = past.reduce((max, p) => Math.max(max, p.timestamp), Number.NEGATIVE_INFINITY);
  const since = at - last;
  if (since < q.intervalMs) {
    return {
      dimensions,
      value: 0,
      firing: false,
      reason: `last datapoint ${Math.round(since / 60_000)} min before`,
    };
  }
  if (since >= q.intervalMs + q.absenceMs) {
    const reason = `absent for longer than the interval plus the absence detection period: no values any more`;
    return { dimensions, value: null, firing: false, reason };
  }
  return {
    dimensions,
    value: 1,
    firing: true,
    reason: `no datapoint in the last ${q.intervalMs / 60_000} min (last ${Math.round(since / 60_000)} min before)`,
  };
}

export function evaluateAlarm(q: AlarmQuery, points: readonly StoredPoint[], at: number): Evaluation {
  const streams = streamsOf(q, points);
  let results: StreamResult[];
  if (q.statistic === "absent") {
    results =
      streams.length === 0
        ? [{ dimensions: q.filters, value: 1, firing: true, reason: "no datapoint has ever matched" }]
        : streams.map((s) => absentStream(q, s.dimensions, s.points, at));
  } else {
    const statistic = q.statistic;
    const cmp = q.comparison ?? { op: ">" as const, value: 0 };
    results = streams.flatMap((s) => {
      const inWindow = s.points.filter((p) => p.timestamp > at - q.intervalMs && p.timestamp <= at);
      if (inWindow.length === 0) return [];
      const value = aggregate(inWindow, statistic);
      const firing = compare(value, cmp.op, cmp.value);
      return [
        {
          dimensions: s.dimensions,
          value,
          firing,
          reason: `${statistic} = ${value} ${cmp.op} ${cmp.value} is ${firing}`,
        },
      ];
    });
  }
  const firing = results.some((r) => r.firing);
  const reason =
    results.length === 0
      ? "no datapoint in the interval: nothing to evaluate"
      : `${results.filter((r) => r.firing).length} of ${results.length} streams firing`;
  return { firing, streams: results, reason };
}
