/**
 * An in-memory Compute port with the emulator's semantics (and OCI's where documented), for unit
 * tests of the batch logic: transitions over short real time, retry-token replay, 409
 * IncorrectState, 404 for unknown ids, and scripted faults (429 with retry-after, 5xx, out of host
 * capacity, dropped connections before or after processing, holds). Every call is logged.
 */
import type { ComputePort, InstanceView, PowerAction } from "../../src/compute.js";
import { ComputeError } from "../../src/errors.js";

export interface FakeInstance {
  id: string;
  compartmentId: string;
  displayName?: string;
  lifecycleState: string;
  freeformTags?: Record<string, string>;
  definedTags?: Record<string, Record<string, unknown>>;
  shape?: string;
}

export type Operation = "GetInstance" | "ListInstances" | "InstanceAction";

export interface FakeCall {
  at: number;
  operation: Operation;
  instanceId?: string;
  compartmentId?: string;
  action?: PowerAction;
  retryToken?: string;
  /** HTTP-like status; 0 = dropped. */
  status: number;
  code?: string;
  replayed?: boolean;
  transition?: boolean;
}

export type FaultKind = "throttle" | "server" | "drop-before" | "drop-after" | "out-of-capacity";

export interface Fault {
  kind: FaultKind;
  operation?: Operation;
  instanceId?: string;
  /** How many calls it applies to (default 1). */
  times?: number;
  retryAfterMs?: number;
}

interface Stored {
  view: InstanceView;
  /** Current transition: to state at time. */
  transition?: { to: string; at: number };
}

export interface FakeOptions {
  /** Transition durations in ms. */
  durationsMs?: Partial<Record<PowerAction, number>>;
  /** Added to every call (ms). */
  latencyMs?: number;
  /** Extra ms transitions of these instances take. */
  hold?: { instanceIds: string[]; ms: number };
  /** Every START on these ids answers 500 "Out of host capacity.". */
  outOfCapacity?: string[];
  /** Random fraction of calls failing with 429/500/503/drop (deterministic with seed). */
  errorFraction?: number;
  seed?: number;
  /** Page size of listInstances (pages are followed internally, counting calls). */
  pageSize?: number;
}

let requestSeq = 0;

export class FakeCompute implements ComputePort {
  readonly calls: FakeCall[] = [];
  private readonly instances = new Map<string, Stored>();
  private readonly faults: Fault[] = [];
  private readonly tokens = new Map<string, InstanceView>();
  private random: () => number;

  constructor(
    instances: FakeInstance[] = [],
    private readonly options: FakeOptions = {},
  ) {
    for (const i of instances) this.put(i);
    let s = options.seed ?? 1;
    this.random = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
  }

  put(i: FakeInstance): void {
    this.instances.set(i.id, {
      view: {
        id: i.id,
        compartmentId: i.compartmentId,
        displayName: i.displayName ?? i.id.slice(-6),
        lifecycleState: i.lifecycleState,
        freeformTags: i.freeformTags ?? {},
        definedTags: i.definedTags ?? {},
        ...(i.shape ? { shape: i.shape } : {}),
      },
    });
  }

  /** Sets a state directly (cancels any transition), like the emulator's PATCH. */
  setState(id: string, state: string, then?: { to: string; afterMs: number }): void {
    const s = this.instances.get(id);
    if (!s) throw new Error(`no instance ${id}`);
    s.view = { ...s.view, lifecycleState: state };
    s.transition = then ? { to: then.to, at: Date.now() + then.afterMs } : undefined;
  }

  inject(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  state(id: string): string | undefined {
    return this.current(id)?.view.lifecycleState;
  }

  count(operation?: Operation, instanceId?: string): number {
    return this.calls.filter(
      (c) => (!operation || c.operation === operation) && (!instanceId || c.instanceId === instanceId),
    ).length;
  }

  /** Power actions that started a transition, per instance. */
  transitions(instanceId: string): FakeCall[] {
    return this.calls.filter((c) => c.instanceId === instanceId && c.transition);
  }

  private current(id: string): Stored | undefined {
    const s = this.instances.get(id);
    if (s?.transition && Date.now() >= s.transition.at) {
      s.view = { ...s.view, lifecycleState: s.transition.to };
      s.transition = undefined;
    }
    return s;
  }

  private async delay(signal?: AbortSignal): Promise<void> {
    const ms = this.options.latencyMs ?? 0;
    if (ms <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          reject(new ComputeError("NetworkError", "aborted", { transient: true, outcomeUnknown: true }));
        },
        { once: true },
      );
    });
  }

  private takeFault(operation: Operation, instanceId?: string): Fault | undefined {
    const i = this.faults.findIndex(
      (f) =>
        (f.operation === undefined || f.operation === operation) &&
        (f.instanceId === undefined || f.instanceId === instanceId) &&
        (f.times ?? 1) > 0,
    );
    if (i >= 0) {
      const f = this.faults[i] as Fault;
      f.times = (f.times ?? 1) - 1;
      if (f.times <= 0) this.faults.splice(i, 1);
      return f;
    }
    const fraction = this.options.errorFraction ?? 0;
    if (fraction > 0 && this.random() < fraction) {
      const r = this.random();
      if (r < 0.4) return { kind: "throttle", retryAfterMs: 20 };
      if (r < 0.7) return { kind: "server" };
      if (r < 0.85) return { kind: "drop-before" };
      return { kind: "drop-after" };
    }
    return undefined;
  }

  private log(call: Omit<FakeCall, "at">): void {
    this.calls.push({ at: Date.now(), ...call });
  }

  private error(call: Omit<FakeCall, "at" | "status" | "code">, f: Fault): ComputeError {
    const opcRequestId = `fake-${++requestSeq}`;
    switch (f.kind) {
      case "throttle":
        this.log({ ...call, status: 429, code: "TooManyRequests" });
        return new ComputeError("TooManyRequests", "TooManyRequests 429: slow down", {
          transient: true,
          status: 429,
          retryAfterMs: f.retryAfterMs ?? 1000,
          opcRequestId,
        });
      case "server":
        this.log({ ...call, status: 503, code: "ServiceUnavailable" });
        return new ComputeError("ServiceError", "ServiceUnavailable 503: try again", {
          transient: true,
          status: 503,
          opcRequestId,
        });
      case "out-of-capacity":
        this.log({ ...call, status: 500, code: "InternalError" });
        return new ComputeError("OutOfHostCapacity", "InternalError 500: Out of host capacity.", {
          transient: false,
          status: 500,
          opcRequestId,
        });
      default:
        this.log({ ...call, status: 0 });
        return new ComputeError("NetworkError", "could not reach OCI (socket hang up)", {
          transient: true,
          outcomeUnknown: true,
        });
    }
  }

  private notFound(call: Omit<FakeCall, "at" | "status" | "code">): ComputeError {
    this.log({ ...call, status: 404, code: "NotAuthorizedOrNotFound" });
    return new ComputeError("NotAuthorizedOrNotFound", "NotAuthorizedOrNotFound 404: not found", {
      transient: false,
      status: 404,
      opcRequestId: `fake-${++requestSeq}`,
    });
  }

  async getInstance(id: string, signal?: AbortSignal): Promise<InstanceView> {
    await this.delay(signal);
    const call = { operation: "GetInstance" as const, instanceId: id };
    const f = this.takeFault("GetInstance", id);
    if (f && f.kind !== "drop-after" && f.kind !== "out-of-capacity") throw this.error(call, f);
    const s = this.current(id);
    if (!s) throw this.notFound(call);
    if (f) throw this.error(call, f);
    this.log({ ...call, status: 200 });
    return { ...s.view };
  }

  async listInstances(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]> {
    const all = [...this.instances.keys()]
      .map((id) => this.current(id) as Stored)
      .filter((s) => s.view.compartmentId === compartmentId)
      .map((s) => ({ ...s.view }));
    const pageSize = this.options.pageSize ?? 1000;
    const pages = Math.max(1, Math.ceil(all.length / pageSize));
    for (let p = 0; p < pages; p++) {
      await this.delay(signal);
      const call = { operation: "ListInstances" as const, compartmentId };
      const f = this.takeFault("ListInstances");
      if (f && f.kind !== "out-of-capacity") throw this.error(call, f);
      this.log({ ...call, status: 200 });
    }
    return all;
  }

  async instanceAction(
    id: string,
    action: PowerAction,
    retryToken: string,
    signal?: AbortSignal,
  ): Promise<InstanceView> {
    await this.delay(signal);
    const call = { operation: "InstanceAction" as const, instanceId: id, action, retryToken };
    const f = this.takeFault("InstanceAction", id);
    if (f && f.kind !== "drop-after") throw this.error(call, f);
    const key = `${id}|${action}|${retryToken}`;
    const cached = this.tokens.get(key);
    if (cached) {
      if (f) throw this.error(call, f);
      this.log({ ...call, status: 200, replayed: true });
      return { ...cached };
    }
    const s = this.current(id);
    if (!s) throw this.notFound(call);
    const state = s.view.lifecycleState;
    const toRunning = action === "START";
    const headingThere = toRunning
      ? state === "RUNNING" || state === "STARTING"
      : state === "STOPPED" || state === "STOPPING";
    let transition = false;
    if (!headingThere) {
      const from = toRunning ? "STOPPED" : "RUNNING";
      if (state !== from) {
        this.log({ ...call, status: 409, code: "IncorrectState" });
        throw new ComputeError(
          "IncorrectState",
          `IncorrectState 409: cannot ${action} an instance in ${state}`,
          {
            transient: true,
            status: 409,
            opcRequestId: `fake-${++requestSeq}`,
          },
        );
      }
      if (toRunning && this.options.outOfCapacity?.includes(id)) {
        throw this.error(call, { kind: "out-of-capacity" });
      }
      const ms =
        (this.options.durationsMs?.[action] ?? 30) +
        (this.options.hold?.instanceIds.includes(id) ? this.options.hold.ms : 0);
      s.view = { ...s.view, lifecycleState: toRunning ? "STARTING" : "STOPPING" };
      s.transition = { to: toRunning ? "RUNNING" : "STOPPED", at: Date.now() + ms };
      transition = true;
    }
    const answer = { ...s.view };
    this.tokens.set(key, answer);
    if (f) {
      // dropped after processing: the action took effect, the answer is lost
      this.calls.push({ at: Date.now(), ...call, status: 0, transition });
      throw new ComputeError("NetworkError", "could not reach OCI (socket hang up)", {
        transient: true,
        outcomeUnknown: true,
      });
    }
    this.log({ ...call, status: 200, transition });
    return answer;
  }
}
