import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAuthProvider, scrubSecrets } from "../../src/auth.js";
import { PowerError } from "../../src/errors.js";

afterEach(() => vi.unstubAllEnvs());

async function authError(env: Record<string, string>): Promise<PowerError> {
  try {
    await createAuthProvider(env);
  } catch (error) {
    expect(error).toBeInstanceOf(PowerError);
    return error as PowerError;
  }
  throw new Error("expected AuthenticationFailed");
}

describe("createAuthProvider", () => {
  it("resource principal: names the missing variables", async () => {
    const e = await authError({
      OCI_RESOURCE_PRINCIPAL_VERSION: "2.2",
      OCI_RESOURCE_PRINCIPAL_REGION: "us-ashburn-1",
    });
    expect(e.code).toBe("AuthenticationFailed");
    expect(e.message).toMatch(/OCI_RESOURCE_PRINCIPAL_RPST, OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM are not set/);
  });

  it("resource principal: only v2.2", async () => {
    const e = await authError({ OCI_RESOURCE_PRINCIPAL_VERSION: "1.1" });
    expect(e.message).toMatch(/only 2\.2 is supported/);
  });

  it("resource principal: a garbled RPST is reported without echoing it", async () => {
    const rpst = "eyJhbGciOiJSUzI1NiJ9.garbled-but-long-enough-to-look-like-a-token.sig";
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    vi.stubEnv("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2");
    vi.stubEnv("OCI_RESOURCE_PRINCIPAL_RPST", rpst);
    vi.stubEnv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", pem);
    vi.stubEnv("OCI_RESOURCE_PRINCIPAL_REGION", "us-ashburn-1");
    const e = await authError({ ...(process.env as Record<string, string>) });
    expect(e.code).toBe("AuthenticationFailed");
    expect(e.message).toMatch(/resource principal/);
    expect(e.message).not.toContain("garbled-but-long");
    expect(e.message).not.toContain("MIIBVQ");
  });

  it("config file forced but missing: says what to set", async () => {
    const dir = mkdtempSync(join(tmpdir(), "oci-"));
    const e = await authError({ OCI_AUTH: "config_file", OCI_CONFIG_FILE: join(dir, "nope") });
    expect(e.message).toMatch(/does not exist \(set OCI_CONFIG_FILE and OCI_CLI_PROFILE\)/);
  });

  it("an unknown OCI_AUTH is a configuration error", async () => {
    const e = await authError({ OCI_AUTH: "magic" });
    expect(e.code).toBe("InvalidConfiguration");
    expect(e.message).toMatch(/resource_principal, instance_principal or config_file/);
  });

  it("instance principal against an unreachable loopback metadata service names both endpoints", async () => {
    const e = await authError({
      OCI_AUTH: "instance_principal",
      OCI_METADATA_BASE_URL: "http://127.0.0.1:9/opc/v2/",
      OCI_FEDERATION_ENDPOINT: "http://127.0.0.1:9",
    });
    expect(e.code).toBe("AuthenticationFailed");
    expect(e.message).toMatch(
      /instance principal: the metadata service \(http:\/\/127\.0\.0\.1:9\/opc\/v2\/\)/,
    );
  });
});

describe("scrubSecrets", () => {
  it("removes PEM blocks, JWTs and long base64 runs", () => {
    const text = `key -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- token eyJhbGc.eyJzdWIi.c2ln and ${"A".repeat(100)}`;
    const out = scrubSecrets(text);
    expect(out).toBe("key [pem] token [token] and [redacted]");
  });
});
