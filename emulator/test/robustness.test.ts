import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey } from "../src/admin-client.js";
import type { RunningEmulator } from "../src/index.js";
import { emulator, signedFetch } from "./helpers.js";

let emu: RunningEmulator;
let key: GeneratedApiKey;

beforeAll(async () => {
  emu = await emulator();
  key = await emu.admin.generateApiKey();
  await emu.admin.putInstances([{ id: "ocid1.instance.oc1.iad.aaaafuzz", lifecycleState: "RUNNING" }]);
});
afterAll(async () => await emu.close());

const segment = fc.oneof(
  fc.constantFrom(
    "20160918",
    "20181201",
    "instances",
    "functions",
    "actions",
    "invoke",
    "_emulator",
    "faults",
  ),
  fc.constantFrom("ocid1.instance.oc1.iad.aaaafuzz", "ocid1.fnfunc.oc1.iad.x", "%ZZ", "..", "%2F", ""),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const query = fc.oneof(
  fc.constant(""),
  fc.constantFrom(
    "?action=START",
    "?action=",
    "?compartmentId=x&limit=-1",
    "?page=p99999999999999",
    "?since=x",
  ),
  fc.string({ maxLength: 20 }).map((s) => `?${encodeURIComponent(s)}=1`),
);
const body = fc.oneof(fc.constant(""), fc.json(), fc.string({ maxLength: 200 }));

describe("robustness", () => {
  it("answers arbitrary signed requests with OCI-shaped JSON and an opc-request-id, and stays up", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"),
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        query,
        body,
        async (method, segments, q, b) => {
          const path = `/${segments.join("/")}${q}`;
          const withBody = method !== "GET" && method !== "DELETE";
          const res = await signedFetch(emu, key, method, path, withBody ? { body: b } : {});
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThan(600);
          expect(res.status).not.toBe(500);
          if (!path.startsWith("/_emulator")) expect(res.headers.get("opc-request-id")).toBeTruthy();
          if (res.status >= 400)
            expect(res.json).toMatchObject({ code: expect.any(String), message: expect.any(String) });
        },
      ),
      { numRuns: 300, seed: 20261126 },
    );
    expect(await emu.admin.health()).toEqual({ ok: true });
  });

  it("answers garbage Authorization headers with 401", async () => {
    for (const authorization of [
      "Signature",
      'Signature keyId="x"',
      "Bearer x",
      'Signature version="1",keyId="ST$abc",algorithm="rsa-sha256",headers="date",signature="AA=="',
    ]) {
      const res = await fetch(`${emu.url}/20160918/instances/ocid1.instance.oc1.iad.aaaafuzz`, {
        headers: { authorization, date: new Date().toUTCString() },
      });
      expect(res.status).toBe(401);
    }
  });
});
