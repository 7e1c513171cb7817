/**
 * The log of OCI calls the admin API serves, with counters that survive log trimming. One log for
 * every region; each record names its region, and the admin API can show one region's part.
 */

export interface CallRecord {
  seq: number;
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  /** The path as routed: without the `/<region>` prefix (the region is in `region`). */
  path: string;
  /** The served region the request went to (its name), or the unknown prefix it named. */
  region: string;
  /** The raw query string without "?", when there was one. */
  query?: string;
  /** Header names the request's signature covers, in signed order (from Authorization's headers=). */
  signedHeaders?: string[];
  /** The request body as text (first 4 KB), when it had one. */
  body?: string;
  operation: string;
  instanceId?: string;
  /** The OCID acted on or read: the instance, instance pool, node pool, container instance or work request. */
  targetId?: string;
  action?: string;
  functionId?: string;
  /** The authenticated principal's id, or "-" when authentication did not succeed. */
  principal: string;
  /** HTTP status answered; 0 when the connection was dropped without an answer. */
  status: number;
  serviceCode?: string;
  retryToken?: string;
  opcRequestId: string;
  replayed: boolean;
  transition: boolean;
  /** Set when an injected fault decided the answer: rateLimit, errorRate, drop, dropAfter, outOfCapacity. */
  fault?: string;
  durationMs: number;
}

export interface CallStats {
  total: number;
  byStatus: Record<string, number>;
  byOperation: Record<string, number>;
  byPrincipal: Record<string, number>;
}

/** Most recent calls kept in the log; counters keep counting past it. */
const LOG_CAP = 200_000;

export class CallLog {
  #calls: CallRecord[] = [];
  #seq = 0;
  /** Counters per region; the all-regions counters are their sum. */
  #stats = new Map<string, CallStats>();

  add(call: Omit<CallRecord, "seq">): CallRecord {
    const record: CallRecord = { seq: ++this.#seq, ...call };
    if (record.targetId === undefined && record.instanceId !== undefined) record.targetId = record.instanceId;
    this.#calls.push(record);
    if (this.#calls.length > LOG_CAP) this.#calls.splice(0, this.#calls.length - LOG_CAP);
    let s = this.#stats.get(record.region);
    if (!s) {
      s = emptyStats();
      this.#stats.set(record.region, s);
    }
    count(s, record);
    return record;
  }

  /** Calls after `seq` (all regions, or only `region`'s), and the last sequence number given out. */
  since(seq: number, region?: string): { calls: CallRecord[]; next: number } {
    // seq is strictly increasing: binary search for the first call after `seq`.
    let lo = 0;
    let hi = this.#calls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#calls[mid]?.seq ?? 0) <= seq) lo = mid + 1;
      else hi = mid;
    }
    const calls = this.#calls.slice(lo);
    return {
      calls: region === undefined ? calls : calls.filter((c) => c.region === region),
      next: this.#seq,
    };
  }

  /** Forget every call (or only `region`'s) and reset the matching counters. */
  clear(region?: string): void {
    if (region === undefined) {
      this.#calls = [];
      this.#stats.clear();
      return;
    }
    this.#calls = this.#calls.filter((c) => c.region !== region);
    this.#stats.delete(region);
  }

  /** Counters for every region, or for one. */
  stats(region?: string): CallStats {
    if (region !== undefined) return structuredClone(this.#stats.get(region) ?? emptyStats());
    const total = emptyStats();
    for (const s of this.#stats.values()) {
      total.total += s.total;
      addAll(total.byStatus, s.byStatus);
      addAll(total.byOperation, s.byOperation);
      addAll(total.byPrincipal, s.byPrincipal);
    }
    return total;
  }
}

function count(s: CallStats, record: CallRecord): void {
  s.total += 1;
  addAll(s.byStatus, { [String(record.status)]: 1 });
  addAll(s.byOperation, { [record.operation]: 1 });
  addAll(s.byPrincipal, { [record.principal]: 1 });
}

function addAll(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

function emptyStats(): CallStats {
  return { total: 0, byStatus: {}, byOperation: {}, byPrincipal: {} };
}
