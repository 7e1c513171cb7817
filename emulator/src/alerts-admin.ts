/**
 * Typed client of the Notifications and Monitoring admin routes (`/_emulator/topics`,
 * `/_emulator/notifications/...`, `/_emulator/monitoring/...`). Its own class beside EmulatorAdmin so
 * the services that arrive in parallel do not all edit one file.
 */
import { adminRequest } from "./admin-client.js";
import type { Evaluation, StoredPoint } from "./alarm-query.js";
import type { PublishedMessage, TopicJson } from "./notifications-api.js";
import type { ServiceFault } from "./service-faults.js";

export type { Evaluation, StoredPoint, StreamResult } from "./alarm-query.js";
export type { PublishedMessage, TopicJson } from "./notifications-api.js";
export type { ServiceFault } from "./service-faults.js";

export interface AlarmEvaluationRequest {
  query: string;
  namespace: string;
  compartmentId: string;
  /** RFC 3339; default now. */
  at?: string;
}

export class AlertsAdmin {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return await adminRequest<T>(this.baseUrl, method, path, body);
  }

  async putTopics(
    topics: ReadonlyArray<{ id: string; compartmentId: string; name?: string }>,
  ): Promise<TopicJson[]> {
    return (await this.#call<{ topics: TopicJson[] }>("POST", "/topics", { topics })).topics;
  }

  async messages(since = 0): Promise<{ messages: PublishedMessage[]; next: number }> {
    return this.#call("GET", `/notifications/messages?since=${since}`);
  }

  async clearMessages(): Promise<void> {
    await this.#call("DELETE", "/notifications/messages");
  }

  /** `undefined` clears the fault. */
  async setNotificationFault(
    fault: { status: number; count?: number } | undefined,
  ): Promise<ServiceFault | object> {
    return this.#call("PUT", "/notifications/faults", fault ?? {});
  }

  async datapoints(filter: { namespace?: string; name?: string } = {}): Promise<StoredPoint[]> {
    const q = new URLSearchParams(
      Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][],
    );
    return (await this.#call<{ datapoints: StoredPoint[] }>("GET", `/monitoring/datapoints?${q}`)).datapoints;
  }

  async clearDatapoints(): Promise<void> {
    await this.#call("DELETE", "/monitoring/datapoints");
  }

  async setMonitoringFault(
    fault: { status: number; count?: number } | undefined,
  ): Promise<ServiceFault | object> {
    return this.#call("PUT", "/monitoring/faults", fault ?? {});
  }

  async evaluateAlarm(request: AlarmEvaluationRequest): Promise<Evaluation & { at: string }> {
    return this.#call("POST", "/monitoring/evaluate", request);
  }
}
