/**
 * Stands in for http-signature in the bundles (scripts/build.ts aliases it). oci-common calls only
 * `sign(request, {key, keyId, headers})` with an RSA private key in PEM: draft-cavage signing, which
 * is a signing string and one node:crypto RSA-SHA256 signature. Same algorithm, same header (and the
 * same `Date` header it adds when the request has none) as http-signature 1.3; RSA PKCS#1 v1.5
 * signatures are deterministic, so test/build/shims.test.ts compares the Authorization headers the
 * two produce byte for byte. Without it the bundle also sheds jsprim, verror, extsprintf, json-schema
 * and assert-plus.
 */
import { createPrivateKey, createSign, type KeyObject } from "node:crypto";

interface SignableRequest {
  method: string;
  path: string;
  getHeader(name: string): string | null | undefined;
  setHeader(name: string, value: string): void;
}

interface SignOptions {
  key: string | Buffer;
  keyId: string;
  headers?: string[];
  algorithm?: string;
}

function stringToSign(request: SignableRequest, headers: readonly string[]): string {
  return headers
    .map((raw) => {
      const name = raw.toLowerCase();
      if (name === "(request-target)")
        return `(request-target): ${request.method.toLowerCase()} ${request.path}`;
      const value = request.getHeader(name);
      if (value === undefined || value === null || value === "") {
        throw new Error(`http-signature shim: ${name} was not in the request`);
      }
      return `${name}: ${value}`;
    })
    .join("\n");
}

/**
 * The last key parsed: every request of a process is signed with the same key (until a session key
 * rotates), and parsing a PEM costs about as much as signing. Kept in memory only, like the PEM itself.
 */
let lastKey: { source: SignOptions["key"]; key: KeyObject } | undefined;

function privateKey(source: SignOptions["key"]): KeyObject {
  if (lastKey?.source !== source) lastKey = { source, key: createPrivateKey(source) };
  return lastKey.key;
}

export function sign(request: SignableRequest, options: SignOptions): boolean {
  if (!request.getHeader("Date")) request.setHeader("Date", new Date().toUTCString());
  const headers = options.headers ?? ["date"];
  const key = privateKey(options.key);
  if (key.asymmetricKeyType !== "rsa") {
    throw new Error(
      `http-signature shim: only RSA keys are bundled (OCI signs with RSA), got ${key.asymmetricKeyType ?? "unknown"}`,
    );
  }
  if (options.algorithm !== undefined && options.algorithm.toLowerCase() !== "rsa-sha256") {
    throw new Error(`http-signature shim: only rsa-sha256 is bundled, got ${options.algorithm}`);
  }
  const signature = createSign("RSA-SHA256").update(stringToSign(request, headers)).sign(key, "base64");
  request.setHeader(
    "Authorization",
    `Signature keyId="${options.keyId}",algorithm="rsa-sha256",headers="${headers.join(" ")}",signature="${signature}"`,
  );
  return true;
}

export const signRequest = sign;
