/** The log of OCI calls the admin API serves, with counters that survive log trimming. */

export interface CallRecord {
  seq: number;
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  path: string;
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
  #stats: CallStats = emptyStats();

  add(call: Omit<CallRecord, "seq">): CallRecord {
    const record: CallRecord = { seq: ++this.#seq, ...call };
    if (record.targetId === undefined && record.instanceId !== undefined) record.targetId = record.instanceId;
    this.#calls.push(record);
    if (this.#calls.length > LOG_CAP) this.#calls.splice(0, this.#calls.length - LOG_CAP);
    const s = this.#stats;
    s.total++;
    const status = String(record.status);
    s.byStatus[status] = (s.byStatus[status] ?? 0) + 1;
    s.byOperation[record.operation] = (s.byOperation[record.operation] ?? 0) + 1;
    s.byPrincipal[record.principal] = (s.byPrincipal[record.principal] ?? 0) + 1;
    return record;
  }

  since(seq: number): { calls: CallRecord[]; next: number } {
    // seq is strictly increasing: binary search for the first call after `seq`.
    let lo = 0;
    let hi = this.#calls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#calls[mid]?.seq ?? 0) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return { calls: this.#calls.slice(lo), next: this.#seq };
  }

  clear(): void {
    this.#calls = [];
    this.#stats = emptyStats();
  }

  get stats(): CallStats {
    return structuredClone(this.#stats);
  }
}

function emptyStats(): CallStats {
  return { total: 0, byStatus: {}, byOperation: {}, byPrincipal: {} };
}
