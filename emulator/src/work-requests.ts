/**
 * Work requests, as Container Engine (20180222) and Container Instances (20210415) report their
 * asynchronous operations: ACCEPTED → IN_PROGRESS → SUCCEEDED or FAILED, with `resources` naming the
 * target and errors listed under `/workRequests/{id}/errors`. Each service owns one store and serves
 * it under its own API version; the statuses are scheduled when the operation is accepted.
 */
import { invalidParameter } from "./errors.js";
import { ocidIn } from "./regions.js";
import { type Routed, type ServiceCall, segment, visible } from "./service.js";
import { type ResourceJson, TrackedStore } from "./tracked.js";

export const WORK_REQUEST_STATUSES = [
  "ACCEPTED",
  "IN_PROGRESS",
  "FAILED",
  "SUCCEEDED",
  "CANCELING",
  "CANCELED",
];

export interface WorkRequestError {
  code: string;
  message: string;
  timestamp: string;
}

/** Stored form: `lifecycleState` holds the status; the wire form names it `status`. */
interface WorkRequestRecord extends ResourceJson {
  operationType: string;
  percentComplete: number;
  resources: Array<{ entityType: string; actionType: string; identifier: string; entityUri: string }>;
  timeAccepted: string;
  timeStarted?: string;
  timeFinished?: string;
  errors: WorkRequestError[];
}

export type WorkRequestJson = Omit<WorkRequestRecord, "lifecycleState" | "errors"> & { status: string };

export interface Accepted {
  compartmentId: string;
  operationType: string;
  entityType: string;
  targetId: string;
  entityUri: string;
  /** When the work starts and ends (epoch ms) and how it ends. */
  startAt: number;
  endAt: number;
  failure?: { code: string; message: string };
}

export class WorkRequests {
  readonly #store = new TrackedStore<WorkRequestRecord>("work request");

  /** `ocidType` of the ids this service issues, e.g. `clustersworkrequest`. */
  constructor(
    readonly ocidType: string,
    /** The region whose key the ids carry. */
    readonly region: string,
  ) {}

  accept(a: Accepted, now: number): string {
    const id = ocidIn(this.region, this.ocidType);
    const record = this.#store.add(
      {
        id,
        compartmentId: a.compartmentId,
        lifecycleState: "ACCEPTED",
        operationType: a.operationType,
        percentComplete: 0,
        resources: [
          {
            entityType: a.entityType,
            actionType: "IN_PROGRESS",
            identifier: a.targetId,
            entityUri: a.entityUri,
          },
        ],
        timeAccepted: new Date(now).toISOString(),
        errors: [],
      },
      now,
    );
    const json = record.json;
    const started = Math.min(a.startAt, a.endAt);
    record.schedule(started, () => {
      record.enter("IN_PROGRESS", started);
      json.timeStarted = new Date(started).toISOString();
    });
    record.schedule(a.endAt, () => {
      const failure = a.failure;
      record.enter(failure ? "FAILED" : "SUCCEEDED", a.endAt);
      json.timeFinished = new Date(a.endAt).toISOString();
      json.percentComplete = failure ? json.percentComplete : 100;
      for (const r of json.resources) r.actionType = failure ? "FAILED" : "UPDATED";
      if (failure) json.errors.push({ ...failure, timestamp: new Date(a.endAt).toISOString() });
    });
    record.target = a.failure ? "FAILED" : "SUCCEEDED";
    record.advance(now);
    return id;
  }

  all(now: number): WorkRequestJson[] {
    return this.#store.all(now).map(toWire);
  }

  /**
   * GetWorkRequest and ListWorkRequestErrors. `errorsAsCollection`: Container Instances wraps the
   * errors in `{items}`, Container Engine answers a bare list.
   */
  route(method: string, parts: readonly string[], errorsAsCollection: boolean): Routed | undefined {
    if (method !== "GET" || parts[0] !== "workRequests" || parts.length < 2 || parts.length > 3)
      return undefined;
    const id = segment(parts, 1);
    if (parts.length === 2) {
      return {
        operation: "GetWorkRequest",
        targetId: id,
        run: (c) => {
          const record = this.#visible(id, c);
          return { status: 200, body: toWire(record.json), headers: { etag: record.etag } };
        },
      };
    }
    if (parts[2] !== "errors") return undefined;
    return {
      operation: "ListWorkRequestErrors",
      targetId: id,
      run: (c) => {
        const errors = this.#visible(id, c).json.errors;
        return { status: 200, body: errorsAsCollection ? { items: errors } : errors };
      },
    };
  }

  #visible(id: string, c: ServiceCall) {
    if (id.length === 0) throw invalidParameter("workRequestId is required.");
    return visible(this.#store, id, this.ocidType, c);
  }
}

function toWire(r: WorkRequestRecord): WorkRequestJson {
  const { lifecycleState, errors: _errors, ...rest } = r;
  return { ...rest, status: lifecycleState };
}
