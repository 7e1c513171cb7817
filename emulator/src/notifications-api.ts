/**
 * Notifications (ONS data plane, 20181201): `POST /topics/{topicId}/messages` (PublishMessage), the
 * call the OCI CLI makes for `oci ons message publish`. Topics are seeded (state `topics`, admin
 * `POST /_emulator/topics`); every accepted message is kept in a log the admin API reads, so a test can
 * see exactly what an operator's e-mail would say. Signed and authorised like Compute: the topic's
 * compartment must be one the caller may use, else 404 as OCI answers for missing and forbidden alike.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { allows, type Principal } from "./auth.js";
import type { CallRecord } from "./calls.js";
import { invalidParameter, notFound, OciHttpError } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import { parseJsonObject, readBody, send, sleep } from "./http-util.js";
import { isOcid } from "./ocid.js";
import { parseServiceFault, type ServiceFault, throwServiceFault } from "./service-faults.js";

type CallDraft = Omit<CallRecord, "seq" | "durationMs" | "status"> & { status?: number };

/** ONS: "Message size limit per request: 64KB" (title and body). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_TITLE_CHARS = 255;
const MAX_LOG = 10_000;
const MESSAGE_TYPES = new Set(["JSON", "RAW_TEXT"]);

export interface TopicJson {
  id: string;
  compartmentId: string;
  name: string;
}

export interface PublishedMessage {
  seq: number;
  messageId: string;
  topicId: string;
  title: string | undefined;
  body: string;
  /** Bytes of the request body as received. */
  bytes: number;
  messageType: string | undefined;
  principal: string;
  at: string;
}

function parseTopic(raw: unknown): TopicJson {
  if (typeof raw !== "object" || raw === null) throw invalidParameter("Each topic must be an object.");
  const t = raw as Record<string, unknown>;
  if (typeof t.id !== "string" || !isOcid(t.id, "onstopic")) {
    throw invalidParameter("topic id must be an ONS topic OCID (ocid1.onstopic...).");
  }
  if (typeof t.compartmentId !== "string" || !isOcid(t.compartmentId)) {
    throw invalidParameter(`topic ${t.id}: compartmentId must be a compartment OCID.`);
  }
  const name = t.name === undefined ? t.id.slice(-20) : t.name;
  if (typeof name !== "string") throw invalidParameter(`topic ${t.id}: name must be a string.`);
  return { id: t.id, compartmentId: t.compartmentId, name };
}

export class NotificationsService {
  readonly #topics = new Map<string, TopicJson>();
  #messages: PublishedMessage[] = [];
  #seq = 0;
  #fault: ServiceFault | undefined;

  register(topics: readonly unknown[]): TopicJson[] {
    const out = topics.map(parseTopic);
    for (const t of out) this.#topics.set(t.id, t);
    return out;
  }

  topics(): TopicJson[] {
    return [...this.#topics.values()];
  }

  messages(since = 0): { messages: PublishedMessage[]; next: number } {
    return { messages: this.#messages.filter((m) => m.seq > since), next: this.#seq };
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    headers: Record<string, string>,
    call: CallDraft,
    /** The faults of the region the request went to (rate limit per principal per region). */
    faults: FaultInjector,
    authenticate: (body: Buffer) => Promise<Principal>,
  ): Promise<void> {
    const m = /^\/20181201\/topics\/([^/]+)\/messages$/.exec(path);
    if (!m?.[1] || method !== "POST") {
      throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
    }
    call.operation = "PublishMessage";
    const topicId = decodeURIComponent(m[1]);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const body = await readBody(req);
    const principal = await authenticate(body);
    faults.rateLimit(principal.id, Date.now());
    faults.randomError();
    throwServiceFault(this.#fault, "PublishMessage");
    if (!isOcid(topicId, "onstopic"))
      throw invalidParameter(`Malformed topic OCID: ${topicId.slice(0, 300)}`);
    const topic = this.#topics.get(topicId);
    if (!topic || !allows(principal, topic.compartmentId)) throw notFound(`topic ${topicId}`);
    const message = this.#accept(topicId, body, req.headers.messagetype, principal);
    call.status = 200;
    send(res, 200, { messageId: message.messageId, timeStamp: message.at }, headers);
  }

  #accept(
    topicId: string,
    raw: Buffer,
    messageTypeHeader: string | string[] | undefined,
    principal: Principal,
  ): PublishedMessage {
    if (raw.length > MAX_MESSAGE_BYTES) {
      throw new OciHttpError(
        400,
        "InvalidParameter",
        `The message is ${raw.length} bytes; the limit per request is ${MAX_MESSAGE_BYTES} bytes (64 KB).`,
      );
    }
    const details = parseJsonObject(raw, "messageDetails");
    if (typeof details.body !== "string" || details.body === "") {
      throw invalidParameter("messageDetails.body is required: a non-empty string.");
    }
    const title = details.title;
    if (title !== undefined && (typeof title !== "string" || title.length > MAX_TITLE_CHARS)) {
      throw invalidParameter(
        `messageDetails.title must be a string of at most ${MAX_TITLE_CHARS} characters.`,
      );
    }
    const messageType = typeof messageTypeHeader === "string" ? messageTypeHeader : undefined;
    if (messageType !== undefined && !MESSAGE_TYPES.has(messageType)) {
      throw invalidParameter("The messageType header must be JSON or RAW_TEXT.");
    }
    const message: PublishedMessage = {
      seq: ++this.#seq,
      messageId: randomUUID(),
      topicId,
      title,
      body: details.body,
      bytes: raw.length,
      messageType,
      principal: principal.id,
      at: new Date().toISOString(),
    };
    this.#messages.push(message);
    if (this.#messages.length > MAX_LOG) this.#messages = this.#messages.slice(-MAX_LOG);
    return message;
  }

  /** Admin routes under /_emulator/topics and /_emulator/notifications; undefined: not ours. */
  admin(method: string, path: string, query: URLSearchParams, json: () => Record<string, unknown>) {
    switch (`${method} ${path.replace(/\/+$/, "")}`) {
      case "GET /_emulator/topics":
        return { topics: this.topics() };
      case "POST /_emulator/topics": {
        const input = json().topics;
        if (!Array.isArray(input)) throw invalidParameter("topics must be a list.");
        return { topics: this.register(input) };
      }
      case "GET /_emulator/notifications/messages": {
        const since = Number(query.get("since") ?? "0");
        if (!Number.isInteger(since) || since < 0)
          throw invalidParameter("since must be a sequence number >= 0.");
        return this.messages(since);
      }
      case "DELETE /_emulator/notifications/messages":
        this.#messages = [];
        return { messages: [], next: this.#seq };
      case "PUT /_emulator/notifications/faults":
        this.#fault = parseServiceFault(json(), "notifications");
        return this.#fault ?? {};
      default:
        return undefined;
    }
  }
}
