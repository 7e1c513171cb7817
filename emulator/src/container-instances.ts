/**
 * Container instances (Container Instances, API 20210415): GetContainerInstance,
 * ListContainerInstances (`{items}`) and `POST /containerInstances/{id}/actions/start|stop`, answered
 * 202 with `opc-work-request-id`. Start: INACTIVE → UPDATING → ACTIVE; stop: ACTIVE → UPDATING →
 * INACTIVE. A start on a container instance named by an out-of-capacity fault falls back to INACTIVE
 * and its work request fails, which is how OCI reports a start it could not place.
 */

import { availabilityDomainIn, fixedOcidIn, ocidIn } from "./regions.js";
import {
  durationFor,
  RetryCache,
  type Routed,
  type Service,
  type ServiceCall,
  type ServiceEnv,
  segment,
  visible,
  visibleCompartment,
} from "./service.js";
import {
  checkIfMatch,
  checkSeed,
  decidePower,
  nextPageHeader,
  optionalEnumQuery,
  parseListQuery,
  type ResourceJson,
  TrackedStore,
} from "./tracked.js";
import { WorkRequests } from "./work-requests.js";

export const CONTAINER_INSTANCE_STATES = [
  "CREATING",
  "UPDATING",
  "ACTIVE",
  "INACTIVE",
  "DELETING",
  "DELETED",
  "FAILED",
] as const;

/** A ContainerInstance in the SDK model's field names (oci-containerinstances `models.ContainerInstance`). */
export interface ContainerInstanceJson extends ResourceJson {
  displayName: string;
  availabilityDomain: string;
  shape: string;
  containerCount: number;
  timeCreated: string;
  timeUpdated: string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
}

const ACTIONS = {
  start: {
    action: "START",
    wants: "ACTIVE",
    from: ["INACTIVE", "FAILED"],
    operation: "START_CONTAINER_INSTANCE",
  },
  stop: { action: "STOP", wants: "INACTIVE", from: ["ACTIVE"], operation: "STOP_CONTAINER_INSTANCE" },
} as const;

/** Seeded transitional states settle into these after the START (or STOP) duration. */
const SETTLES: Record<string, { state: string; action: "START" | "STOP" }> = {
  CREATING: { state: "ACTIVE", action: "START" },
  UPDATING: { state: "ACTIVE", action: "START" },
  DELETING: { state: "DELETED", action: "STOP" },
};

export class ContainerInstances implements Service {
  readonly store = new TrackedStore<ContainerInstanceJson>("container instance");
  readonly workRequests: WorkRequests;
  readonly #retries = new RetryCache();

  constructor(private readonly env: ServiceEnv) {
    this.workRequests = new WorkRequests("computecontainerinstanceworkrequest", env.region);
  }

  upsert(seeds: readonly unknown[], now: number): ContainerInstanceJson[] {
    return seeds.map((input) => {
      const seed = checkSeed(input, {
        field: "containerInstances",
        ocidType: "computecontainerinstance",
        states: CONTAINER_INSTANCE_STATES,
      }) as Partial<ContainerInstanceJson>;
      const json = this.#withDefaults(seed, now);
      const record = this.store.add(json, now);
      const settle = SETTLES[json.lifecycleState];
      if (settle) {
        record.target = settle.state;
        record.scheduleState(now + durationFor(this.env, settle.action, json.id), settle.state);
      }
      return json;
    });
  }

  route(method: string, parts: readonly string[]): Routed | undefined {
    const wr = this.workRequests.route(method, parts, true);
    if (wr) return wr;
    if (parts[0] !== "containerInstances") return undefined;
    const id = segment(parts, 1);
    if (parts.length === 1 && method === "GET") {
      return { operation: "ListContainerInstances", run: (c) => this.#list(c) };
    }
    if (parts.length === 2 && method === "GET") {
      return { operation: "GetContainerInstance", targetId: id, run: (c) => this.#get(id, c) };
    }
    const verb = parts[3];
    if (
      parts.length === 4 &&
      parts[2] === "actions" &&
      method === "POST" &&
      (verb === "start" || verb === "stop")
    ) {
      const spec = ACTIONS[verb];
      return {
        operation: verb === "start" ? "StartContainerInstance" : "StopContainerInstance",
        targetId: id,
        action: spec.action,
        run: (c) => this.#retries.answer(c, id, () => this.#act(id, spec, c)),
      };
    }
    return undefined;
  }

  #get(id: string, c: ServiceCall) {
    const record = visible(this.store, id, "computecontainerinstance", c);
    return { status: 200, body: record.json, headers: { etag: record.etag } };
  }

  #list(c: ServiceCall) {
    const { compartmentId, paging } = parseListQuery(c.query);
    visibleCompartment(c, compartmentId);
    const state = optionalEnumQuery(c.query, "lifecycleState", CONTAINER_INSTANCE_STATES);
    const name = c.query.get("displayName");
    const ad = c.query.get("availabilityDomain");
    const page = this.store.list(
      compartmentId,
      (ci) =>
        (state === undefined || ci.lifecycleState === state) &&
        (name === null || ci.displayName === name) &&
        (ad === null || ci.availabilityDomain === ad),
      paging,
      c.now,
    );
    // ContainerInstanceSummary has no containers or vnics.
    const items = page.items.map(({ containers: _c, vnics: _v, ...summary }) => summary);
    return { status: 200, body: { items }, headers: nextPageHeader(page) };
  }

  #act(id: string, spec: (typeof ACTIONS)[keyof typeof ACTIONS], c: ServiceCall) {
    const record = visible(this.store, id, "computecontainerinstance", c);
    checkIfMatch(c.req.headers["if-match"], record);
    const decision = decidePower(record, {
      noun: "container instance",
      action: spec.action,
      wants: spec.wants,
      from: spec.from,
    });
    const json = record.json;
    let endAt = c.now;
    let failure: { code: string; message: string } | undefined;
    if (decision === "go") {
      endAt = c.now + durationFor(this.env, spec.action, id);
      const failed = spec.action === "START" && this.env.faults.outOfCapacityFor(id, json.shape);
      if (failed) {
        c.call.fault = "outOfCapacity";
        failure = { code: "InternalError", message: "Out of host capacity." };
      }
      const final = failed ? json.lifecycleState : spec.wants;
      record.enter("UPDATING", c.now);
      record.schedule(endAt, () => {
        record.enter(final, endAt);
        json.timeUpdated = new Date(endAt).toISOString();
      });
      record.target = final;
      c.call.transition = true;
    }
    const wrId = this.workRequests.accept(
      {
        compartmentId: json.compartmentId,
        operationType: spec.operation,
        entityType: "containerInstance",
        targetId: id,
        entityUri: `/20210415/containerInstances/${id}`,
        startAt: c.now + (endAt - c.now) / 10,
        endAt,
        ...(failure ? { failure } : {}),
      },
      c.now,
    );
    return { status: 202, headers: { "opc-work-request-id": wrId, etag: record.etag } };
  }

  #withDefaults(seed: Partial<ContainerInstanceJson>, now: number): ContainerInstanceJson {
    const id = seed.id ?? ocidIn(this.env.region, "computecontainerinstance");
    const time = new Date(now).toISOString();
    return {
      faultDomain: "FAULT-DOMAIN-1",
      shapeConfig: {
        ocpus: 1,
        memoryInGBs: 4,
        processorDescription: "AMD EPYC",
        networkingBandwidthInGbps: 1,
      },
      containers: [
        {
          containerId: fixedOcidIn(this.env.region, "computecontainer", `emulator${this.store.nextSeq}`),
          displayName: "app",
        },
      ],
      vnics: [],
      containerRestartPolicy: "ALWAYS",
      gracefulShutdownTimeoutInSeconds: 0,
      systemTags: {},
      ...seed,
      id,
      compartmentId: seed.compartmentId ?? this.env.tenancyId,
      displayName: seed.displayName ?? `container-instance-${this.store.nextSeq}`,
      availabilityDomain: seed.availabilityDomain ?? availabilityDomainIn(this.env.region),
      lifecycleState: seed.lifecycleState ?? "ACTIVE",
      shape: seed.shape ?? "CI.Standard.E4.Flex",
      containerCount: typeof seed.containerCount === "number" ? seed.containerCount : 1,
      timeCreated: seed.timeCreated ?? time,
      timeUpdated: seed.timeUpdated ?? time,
      freeformTags: seed.freeformTags ?? {},
      definedTags: seed.definedTags ?? {},
    };
  }
}
