import { describe, expect, it } from "vitest";
import { PowerError } from "../../src/errors.js";
import { classifyBody, decodeContent, MAX_MESSAGES, readEventRules, valueAt } from "../../src/triggers.js";

const ID = "ocid1.instance.oc1.iad.aaaaaaaaexample1";
const COMP = "ocid1.compartment.oc1..aaaaaaaaexample";
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64");

const UPLOAD_EVENT = {
  eventType: "com.oraclecloud.objectstorage.createobject",
  cloudEventsVersion: "0.1",
  eventTypeVersion: "2.0",
  source: "ObjectStorage",
  eventTime: "2026-12-01T07:00:00Z",
  contentType: "application/json",
  data: {
    compartmentId: COMP,
    resourceName: "batch-42.csv",
    resourceId: "/n/ns/b/uploads/o/batch-42.csv",
    additionalDetails: { bucketName: "uploads", namespace: "ns" },
  },
  eventID: "1b6e5c1e-0000-4000-8000-000000000001",
  extensions: { compartmentId: COMP },
};

const RULES = JSON.stringify([
  {
    name: "uploads-start-gpu",
    event_type: "com.oraclecloud.objectstorage.createobject",
    match: { "data.additionalDetails.bucketName": "uploads" },
    function: "start-compute",
    request: { instance_id: ID },
  },
]);

describe("classifyBody", () => {
  it("passes a plain request (text or object) through as direct", () => {
    expect(classifyBody(JSON.stringify({ instance_id: ID }), [], "START")).toEqual({
      kind: "direct",
      body: { instance_id: ID },
    });
    expect(classifyBody({ instance_id: ID }, [], "START")).toEqual({
      kind: "direct",
      body: { instance_id: ID },
    });
  });

  it("leaves unparseable text to parseRequest (which names the problem)", () => {
    expect(classifyBody("{not json", [], "START")).toEqual({ kind: "direct", body: "{not json" });
  });

  it("reads a Connector Hub batch: plain JSON content, base64 content, Streaming value; a bad message stands alone", () => {
    const body = JSON.stringify([
      { id: "m1", content: JSON.stringify({ instance_id: ID }) },
      { id: 2, content: b64({ instance_ids: [ID], wait: false }) },
      { stream: "s", partition: "0", offset: 17, value: b64({ compartment_id: COMP }) },
      { id: "m4", content: "hello" },
      "not an object",
    ]);
    const incoming = classifyBody(body, [], "START");
    if (incoming.kind !== "batch") throw new Error(`expected a batch, got ${incoming.kind}`);
    expect(incoming.messages.map((m) => [m.index, m.id, m.body, m.error?.code])).toEqual([
      [0, "m1", { instance_id: ID }, undefined],
      [1, "2", { instance_ids: [ID], wait: false }, undefined],
      [2, "0:17", { compartment_id: COMP }, undefined],
      [3, "m4", undefined, "InvalidParameter"],
      [4, undefined, undefined, "InvalidParameter"],
    ]);
    expect(incoming.messages[3]?.error?.message).toMatch(/body\[3\]\.content is neither JSON nor base64/);
    expect(incoming.messages[4]?.error?.message).toMatch(
      /body\[4\] must be a message object, got the string/,
    );
  });

  it("refuses an empty batch, an oversized batch and an array with no message at all", () => {
    expect(() => classifyBody("[]", [], "START")).toThrow(/empty array/);
    const many = JSON.stringify(Array.from({ length: MAX_MESSAGES + 1 }, () => ({ content: "{}" })));
    expect(() => classifyBody(many, [], "START")).toThrow(/at most 100/);
    expect(() => classifyBody(JSON.stringify([{ instance_id: ID }]), [], "START")).toThrow(
      /no element is a Connector Hub message/,
    );
  });

  it("maps an Events envelope through the first matching rule", () => {
    const rules = readEventRules(RULES, "START");
    expect(classifyBody(JSON.stringify(UPLOAD_EVENT), rules, "START")).toEqual({
      kind: "event",
      body: { instance_id: ID },
      rule: "uploads-start-gpu",
      eventType: UPLOAD_EVENT.eventType,
    });
    const cloudEvents1 = {
      specversion: "1.0",
      type: UPLOAD_EVENT.eventType,
      source: "x",
      id: "1",
      data: UPLOAD_EVENT.data,
    };
    expect(classifyBody(cloudEvents1, rules, "START")).toMatchObject({
      kind: "event",
      rule: "uploads-start-gpu",
    });
  });

  it("refuses an event no rule matches, naming the event and the rules; and one for the other function", () => {
    const rules = readEventRules(RULES, "START");
    const other = {
      ...UPLOAD_EVENT,
      data: { ...UPLOAD_EVENT.data, additionalDetails: { bucketName: "logs" } },
    };
    expect(() => classifyBody(other, rules, "START")).toThrow(
      /matches none of the 1 EVENT_RULES \(uploads-start-gpu\)/,
    );
    expect(() => classifyBody(UPLOAD_EVENT, readEventRules(RULES, "STOP"), "STOP")).toThrow(/matches none/);
    expect(() => classifyBody(UPLOAD_EVENT, [], "START")).toThrow(/EVENT_RULES is not set/);
  });
});

describe("readEventRules", () => {
  it("is empty when unset", () => {
    expect(readEventRules(undefined, "START")).toEqual([]);
    expect(readEventRules("  ", "STOP")).toEqual([]);
  });

  it.each([
    ["not JSON", "{", /is not valid JSON/],
    ["not an array", "{}", /must be a JSON array of 1 to 50 rules/],
    ["empty", "[]", /must be a JSON array/],
    [
      "unknown key",
      JSON.stringify([{ event_type: "a", request: {}, extra: 1 }]),
      /\[0\] has unknown key "extra"/,
    ],
    ["no event type", JSON.stringify([{ request: { instance_id: ID } }]), /\[0\]\.event_type must be/],
    [
      "match not strings",
      JSON.stringify([{ event_type: "a", match: { x: 1 }, request: { instance_id: ID } }]),
      /\[0\]\.match must be/,
    ],
    [
      "bad function",
      JSON.stringify([{ event_type: "a", function: "start", request: { instance_id: ID } }]),
      /\[0\]\.function must be "start-compute"/,
    ],
    ["no request", JSON.stringify([{ event_type: "a" }]), /\[0\]\.request must be a request object/],
    [
      "invalid request",
      JSON.stringify([{ event_type: "a", request: { instance_id: "nope" } }]),
      /\[0\]\.request is not a valid request: instance_id/,
    ],
  ])("refuses %s, naming EVENT_RULES and the rule", (_name, raw, pattern) => {
    let thrown: unknown;
    try {
      readEventRules(raw, "START");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PowerError);
    expect((thrown as PowerError).code).toBe("InvalidConfiguration");
    expect((thrown as PowerError).message).toMatch(/^configuration EVENT_RULES /);
    expect((thrown as PowerError).message).toMatch(pattern);
  });

  it("checks a stop rule's request only for stop-compute (action is a stop-only key)", () => {
    const raw = JSON.stringify([
      { event_type: "a", function: "stop-compute", request: { instance_id: ID, action: "STOP" } },
    ]);
    expect(readEventRules(raw, "START")).toHaveLength(1);
    expect(readEventRules(raw, "STOP")[0]?.fn).toBe("STOP");
  });
});

describe("decodeContent and valueAt", () => {
  it("decodes JSON text and base64 JSON, and nothing else", () => {
    expect(decodeContent(' {"a": 1} ')).toEqual({ a: 1 });
    expect(decodeContent(b64({ a: 2 }))).toEqual({ a: 2 });
    expect(decodeContent(b64([1, 2]))).toBeUndefined();
    expect(decodeContent("%%%")).toBeUndefined();
    expect(decodeContent("{broken")).toBeUndefined();
  });

  it("reads own string values at dotted paths only", () => {
    expect(valueAt(UPLOAD_EVENT, "data.additionalDetails.bucketName")).toBe("uploads");
    expect(valueAt(UPLOAD_EVENT, "data.additionalDetails")).toBeUndefined();
    expect(valueAt(UPLOAD_EVENT, "data.__proto__.x")).toBeUndefined();
    expect(valueAt(UPLOAD_EVENT, "nope.x")).toBeUndefined();
  });
});
