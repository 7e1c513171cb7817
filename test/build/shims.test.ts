/**
 * The bundles' node:crypto shims (src/shims/) against the libraries they replace, on the same
 * inputs: PEM output, digests, certificate fields and the Authorization header must be identical
 * (RSA PKCS#1 v1.5 signatures are deterministic, so the signatures compare byte for byte).
 */
import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import * as signatureShim from "../../src/shims/http-signature.js";
import ShimJsSha from "../../src/shims/jssha.js";
import * as sshpkShim from "../../src/shims/sshpk.js";

const require = createRequire(import.meta.url);
interface Signable {
  method: string;
  path: string;
  getHeader(name: string): string | null | undefined;
  setHeader(name: string, value: string): void;
}
interface SignOptions {
  key: string | Buffer;
  keyId: string;
  headers: string[];
}
// The real libraries, typed here for what the comparison uses (the emulator's declarations are narrower).
interface RealPrivateKey {
  type: string;
  toBuffer(format: string, options: object): Buffer;
  toPublic(): { toString(format: string): string };
  toString(format: string): string;
}
interface RealCertificate {
  toString(format: string): string;
  fingerprint(algorithm: string): { toString(format: string): string };
}
const sshpk = require("sshpk") as {
  parsePrivateKey(data: string, format: string, options?: object): RealPrivateKey;
  parseCertificate(data: string, format: string): RealCertificate;
  identityFromArray(components: { name: string; value: string }[]): unknown;
  createSelfSignedCertificate(subject: unknown, key: RealPrivateKey, options: object): RealCertificate;
};
const RealJsSha = require("jssha") as new (
  variant: string,
  format: string,
) => { update(text: string): void; getHash(format: string): string };
const realSignature = require("http-signature") as { sign(request: Signable, options: SignOptions): boolean };
const AuthUtils = (
  require("oci-common/lib/auth/helpers/auth-utils.js") as {
    default: { getTenantIdFromCertificate(certificate: unknown): string };
  }
).default;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PASSPHRASE = "correct horse";
const KEYS = {
  pkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  pkcs1: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  "encrypted pkcs8": privateKey
    .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: PASSPHRASE })
    .toString(),
  "encrypted pkcs1 (DEK-Info)": privateKey
    .export({ type: "pkcs1", format: "pem", cipher: "aes-128-cbc", passphrase: PASSPHRASE })
    .toString(),
};

function request(headers: Record<string, string>): Signable & { headers: Map<string, string> } {
  const map = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: "POST",
    path: "/20160918/instances/ocid1.instance.oc1.iad.x?action=START",
    headers: map,
    getHeader: (name) => map.get(name.toLowerCase()) ?? null,
    setHeader: (name, value) => {
      map.set(name.toLowerCase(), value);
    },
  };
}

describe("sshpk shim", () => {
  it.each(Object.entries(KEYS))("reads a %s key into the same PEMs as sshpk", (_kind, pem) => {
    const options = pem.includes("ENCRYPTED") ? { passphrase: PASSPHRASE } : {};
    const real = sshpk.parsePrivateKey(pem, "auto", options);
    const shim = sshpkShim.parsePrivateKey(pem, "auto", options);
    expect(shim.toBuffer("pem").toString()).toBe(real.toBuffer("pem", {}).toString());
    expect(shim.toPublic().toString("pem")).toBe(real.toPublic().toString("pem"));
    expect(shim.type).toBe(real.type);
  });

  it("names the expected format for an OpenSSH key and a wrong passphrase", () => {
    const openssh = sshpk.parsePrivateKey(KEYS.pkcs8, "pem").toString("ssh-private");
    expect(openssh).toContain("BEGIN OPENSSH PRIVATE KEY");
    expect(() => sshpkShim.parsePrivateKey(openssh, "auto", {})).toThrow(
      /OpenSSH format.*use a PEM key \(PKCS#8 or PKCS#1\)/,
    );
    expect(() => sshpkShim.parsePrivateKey(KEYS["encrypted pkcs8"], "auto", { passphrase: "wrong" })).toThrow(
      /could not be read as PEM \(PKCS#8 or PKCS#1, encrypted with the passphrase/,
    );
  });

  it("reads a certificate as sshpk does: PEM, SHA-1 fingerprint, the tenancy in the subject", () => {
    const key = sshpk.parsePrivateKey(KEYS.pkcs8, "pem");
    const subject = sshpk.identityFromArray([
      { name: "cn", value: "ocid1.instance.oc1.iad.abc" },
      { name: "ou", value: "opc-certtype:instance" },
      { name: "ou", value: "opc-tenant:ocid1.tenancy.oc1..tenant" },
    ]);
    const pem = sshpk.createSelfSignedCertificate(subject, key, { lifetime: 3600 }).toString("pem");
    const real = sshpk.parseCertificate(pem, "pem");
    const shim = sshpkShim.parseCertificate(pem, "pem");
    expect(shim.toString("pem")).toBe(real.toString("pem"));
    expect(shim.fingerprint("sha1").toString("hex")).toBe(real.fingerprint("sha1").toString("hex"));
    expect(AuthUtils.getTenantIdFromCertificate(shim)).toBe("ocid1.tenancy.oc1..tenant");
    expect(AuthUtils.getTenantIdFromCertificate(shim)).toBe(AuthUtils.getTenantIdFromCertificate(real));
  });
});

describe("http-signature shim", () => {
  it.each([
    ["a GET (oci-common's three headers)", ["x-date", "(request-target)", "host"]],
    [
      "a POST with the body headers (names as oci-common spells them)",
      ["x-date", "(request-target)", "host", "Content-Type", "Content-Length", "x-content-sha256"],
    ],
    ["the federation request (date first)", ["date", "(request-target)", "host", "content-type"]],
  ])("signs %s exactly as http-signature does", (_what, headers) => {
    const base = {
      "x-date": "Wed, 02 Dec 2026 00:00:00 GMT",
      Date: "Wed, 02 Dec 2026 00:00:00 GMT",
      host: "iaas.us-ashburn-1.oraclecloud.com",
      "content-type": "application/json",
      "content-length": "0",
      "x-content-sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    };
    const key = sshpk.parsePrivateKey(KEYS.pkcs8, "pem").toBuffer("pem", {});
    const a = request(base);
    const b = request(base);
    realSignature.sign(a, { key, keyId: "ST$token", headers: [...headers] });
    signatureShim.sign(b, { key, keyId: "ST$token", headers: [...headers] });
    expect(b.getHeader("authorization")).toBe(a.getHeader("authorization"));
    expect(b.getHeader("authorization")).toMatch(/^Signature keyId="ST\$token",algorithm="rsa-sha256"/);
  });

  it("adds a Date header when the request has none, as http-signature does", () => {
    const r = request({ "x-date": "x", host: "h" });
    signatureShim.sign(r, { key: KEYS.pkcs1, keyId: "k", headers: ["x-date", "host"] });
    expect(r.getHeader("date")).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });

  it("names a header the request lacks, and refuses non-RSA keys", () => {
    expect(() =>
      signatureShim.sign(request({ host: "h" }), { key: KEYS.pkcs1, keyId: "k", headers: ["x-date"] }),
    ).toThrow("http-signature shim: x-date was not in the request");
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    expect(() =>
      signatureShim.sign(request({ host: "h" }), { key: ec, keyId: "k", headers: ["host"] }),
    ).toThrow("only RSA keys are bundled (OCI signs with RSA), got ec");
  });
});

describe("jssha shim", () => {
  it.each(["", "{}", '{"action":"START"}', "grüße ✓ 𝄞"])("hashes %j as jssha does", (text) => {
    const real = new RealJsSha("SHA-256", "TEXT");
    real.update(text);
    const shim = new ShimJsSha("SHA-256", "TEXT");
    shim.update(text);
    expect(shim.getHash("B64")).toBe(real.getHash("B64"));
  });

  it("refuses another variant instead of hashing differently", () => {
    expect(() => new ShimJsSha("SHA-1", "TEXT")).toThrow(
      'only ("SHA-256", "TEXT") is bundled, got ("SHA-1", "TEXT")',
    );
  });
});
