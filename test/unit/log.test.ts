import { describe, expect, it } from "vitest";
import { captureConsole, createLogger, scrubSecrets } from "../../src/log.js";

describe("createLogger", () => {
  it("writes one JSON object per line with fixed keys, warn/error to stderr, below-level dropped", () => {
    const out: [string, string][] = [];
    const log = createLogger({ level: "info", base: { call_id: "c1" }, sink: (s, l) => out.push([s, l]) });
    log.debug("hidden");
    log.info("hello", { instance_id: "i1", opc_request_id: "r1" });
    log.child({ fn: "start-compute" }).warn("careful");
    expect(out).toHaveLength(2);
    expect(out[0]?.[0]).toBe("stdout");
    expect(JSON.parse(out[0]?.[1] ?? "")).toMatchObject({
      level: "info",
      msg: "hello",
      call_id: "c1",
      instance_id: "i1",
      opc_request_id: "r1",
    });
    expect(out[1]?.[0]).toBe("stderr");
    expect(JSON.parse(out[1]?.[1] ?? "")).toMatchObject({
      level: "warn",
      fn: "start-compute",
      call_id: "c1",
    });
  });

  it("redacts fields whose names look like secrets", () => {
    const out: string[] = [];
    const log = createLogger({ sink: (_s, l) => out.push(l) });
    log.info("x", { private_key: "k", rpst: "t", retry_token: "r", passphrase: "p", instance_id: "i" });
    const record = JSON.parse(out[0] ?? "") as Record<string, unknown>;
    expect(record).toMatchObject({
      private_key: "[redacted]",
      rpst: "[redacted]",
      retry_token: "[redacted]",
      passphrase: "[redacted]",
      instance_id: "i",
    });
  });
});

describe("captureConsole", () => {
  it("turns console output (the SDK's) into scrubbed JSON lines, leaving the Fn log frame alone", () => {
    const saved = {
      log: console.log,
      info: console.info,
      warn: console.warn,
      error: console.error,
      debug: console.debug,
    };
    const out: string[] = [];
    const framed: unknown[] = [];
    console.log = (...args: unknown[]) => framed.push(args[0]);
    try {
      captureConsole(createLogger({ base: { fn: "start-compute" }, sink: (_s, l) => out.push(l) }), {
        FN_LOGFRAME_NAME: "01ABC",
      });
      console.log("Retrying the request...");
      console.warn("token %s", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
      console.log("\n01ABC=call-1");
    } finally {
      Object.assign(console, saved);
    }
    expect(out.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "console output",
        text: "Retrying the request...",
        fn: "start-compute",
      }),
      expect.objectContaining({ level: "warn", text: "token [token]" }),
    ]);
    expect(framed).toEqual(["\n01ABC=call-1"]);
  });

  it("scrubSecrets keeps ordinary text", () => {
    expect(scrubSecrets("Failed to fetch the token from auth server")).toBe(
      "Failed to fetch the token from auth server",
    );
  });
});
