/**
 * Request authentication as OCI does it: draft-cavage HTTP signatures (rsa-sha256) whose keyId is an
 * API key registered in the state (`tenancy/user/fingerprint`) or a security token the emulator issued
 * (`ST$<jwt>`, session public key in the token's `jwk` claim). Tokens are JWTs signed with the
 * emulator's own key, so a token minted elsewhere (forged) or past `exp` is refused.
 */
import { createHash, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import httpSignature, { type ParsedSignature } from "http-signature";
import { exportJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from "jose";
import sshpk, { type Key } from "sshpk";
import { notAuthenticated } from "./errors.js";
import type { ApiKeyJson } from "./model.js";

const generateKeyPairAsync = promisify(generateKeyPair);

/** Allowed difference between the request's date and ours, as OCI (5 minutes). */
export const CLOCK_SKEW_SECONDS = 300;
const ISSUER = "oci-emulator";
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

export type PrincipalKind = "apiKey" | "resourcePrincipal" | "instancePrincipal";

export interface Principal {
  /** API key: its keyId; token principals: the token's `sub`. */
  id: string;
  kind: PrincipalKind;
  tenancyId: string;
  /** Compartments this principal may use; undefined = all. */
  compartments: ReadonlySet<string> | undefined;
}

export interface TokenClaims {
  sub: string;
  kind: Exclude<PrincipalKind, "apiKey">;
  tenancyId: string;
  compartments?: readonly string[] | undefined;
  sessionPublicKey: KeyObject;
  ttlSeconds: number;
  extra?: Record<string, unknown>;
}

interface CachedToken {
  principal: Principal;
  sessionKeyPem: string;
  exp: number;
}

export interface RsaKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
  publicKeyPem: string;
  privateKeyPem: string;
}

export async function newRsaKeyPair(): Promise<RsaKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048 });
  return {
    publicKey,
    privateKey,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** OCI's API key fingerprint: MD5 of the DER public key, colon-separated hex. */
export function fingerprintOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
  return createHash("md5").update(der).digest("hex").match(/../g)?.join(":") ?? "";
}

export class Authenticator {
  readonly #apiKeys = new Map<string, ApiKeyJson>();
  readonly #tokens = new Map<string, CachedToken>();
  readonly #signingKey: RsaKeyPair;
  readonly #kid: string;

  private constructor(signingKey: RsaKeyPair) {
    this.#signingKey = signingKey;
    this.#kid = `emulator-${createHash("sha256").update(signingKey.publicKeyPem).digest("hex").slice(0, 16)}`;
  }

  static async create(): Promise<Authenticator> {
    return new Authenticator(await newRsaKeyPair());
  }

  registerApiKey(key: ApiKeyJson): void {
    // Parse now so a bad PEM fails at registration, not on the first request.
    createPublicKey(key.publicKeyPem);
    this.#apiKeys.set(key.keyId, { ...key });
  }

  get apiKeys(): ApiKeyJson[] {
    return [...this.#apiKeys.values()];
  }

  async mintToken(c: TokenClaims): Promise<string> {
    const jwk: JWK = await exportJWK(c.sessionPublicKey);
    const payload: JWTPayload = {
      ...c.extra,
      ttype: c.kind === "resourcePrincipal" ? "res" : "x509",
      tenant: c.tenancyId,
      jwk: { ...jwk, kid: "sessionKey", alg: "RS256", use: "sig" },
      emu_kind: c.kind,
      ...(c.compartments ? { emu_compartments: [...c.compartments] } : {}),
    };
    return await new SignJWT(payload)
      .setProtectedHeader({ alg: "RS256", kid: this.#kid, typ: "JWT" })
      .setIssuer(ISSUER)
      .setSubject(c.sub)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + c.ttlSeconds)
      .sign(this.#signingKey.privateKey);
  }

  /** Verify the request's signature (and body hash). Throws 401 NotAuthenticated on any failure. */
  /**
   * `bodyHeaders: "optional"` is for operations with opaque bodies (Functions invoke): OCI's SDKs may
   * sign those without the body headers; when they are signed they are still checked.
   */
  async authenticate(
    req: IncomingMessage,
    body: Buffer,
    bodyHeaders: "required" | "optional" = "required",
  ): Promise<Principal> {
    if (!req.headers.authorization) throw notAuthenticated("Missing Authorization header.");
    let parsed: ParsedSignature;
    try {
      parsed = httpSignature.parseRequest(req, {
        clockSkew: CLOCK_SKEW_SECONDS,
        headers: ["(request-target)", "host"],
        algorithms: ["rsa-sha256"],
      });
    } catch (e) {
      throw notAuthenticated(`Invalid signature: ${e instanceof Error ? e.message : String(e)}`);
    }
    const signed = parsed.params.headers;
    if (!signed.includes("date") && !signed.includes("x-date")) {
      throw notAuthenticated("The date or x-date header must be signed.");
    }
    checkBodyHeaders(req, body, signed, bodyHeaders);

    const keyId = parsed.keyId;
    let principal: Principal;
    let keyPem: string;
    if (keyId.startsWith("ST$")) {
      const token = await this.verifyToken(keyId.slice(3));
      principal = token.principal;
      keyPem = token.sessionKeyPem;
    } else {
      const key = this.#apiKeys.get(keyId);
      if (!key) throw notAuthenticated("Unknown keyId.");
      const tenancyId = keyId.split("/")[0] ?? "";
      principal = {
        id: keyId,
        kind: "apiKey",
        tenancyId,
        compartments: key.compartments ? new Set(key.compartments) : undefined,
      };
      keyPem = key.publicKeyPem;
    }
    let ok = false;
    try {
      ok = httpSignature.verifySignature(parsed, parsedKey(keyPem));
    } catch {
      ok = false;
    }
    if (!ok) throw notAuthenticated("Signature verification failed.");
    return principal;
  }

  /** Verify a security token issued by this emulator; cached per token until it expires. */
  async verifyToken(token: string): Promise<CachedToken> {
    const now = Math.floor(Date.now() / 1000);
    const cached = this.#tokens.get(token);
    if (cached) {
      if (cached.exp <= now) throw notAuthenticated("The security token has expired.");
      return cached;
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#signingKey.publicKey, {
        issuer: ISSUER,
        algorithms: ["RS256"],
      }));
    } catch (e) {
      const expired = e instanceof Error && "code" in e && e.code === "ERR_JWT_EXPIRED";
      throw notAuthenticated(
        expired ? "The security token has expired." : "The security token is not valid.",
      );
    }
    const jwk = payload.jwk;
    if (
      jwk === null ||
      typeof jwk !== "object" ||
      typeof payload.sub !== "string" ||
      typeof payload.exp !== "number"
    ) {
      throw notAuthenticated("The security token lacks required claims.");
    }
    let sessionKeyPem: string;
    try {
      sessionKeyPem = createPublicKey({ key: jwk as JsonWebKeyInput, format: "jwk" })
        .export({ type: "spki", format: "pem" })
        .toString();
    } catch {
      throw notAuthenticated("The security token's jwk claim is not a public key.");
    }
    const compartments = payload.emu_compartments;
    const kind: PrincipalKind =
      payload.emu_kind === "instancePrincipal" ? "instancePrincipal" : "resourcePrincipal";
    const entry: CachedToken = {
      principal: {
        id: payload.sub,
        kind,
        tenancyId: typeof payload.tenant === "string" ? payload.tenant : "",
        compartments: Array.isArray(compartments) ? new Set(compartments.map(String)) : undefined,
      },
      sessionKeyPem,
      exp: payload.exp,
    };
    if (this.#tokens.size > 10_000) this.#tokens.clear();
    this.#tokens.set(token, entry);
    return entry;
  }
}

type JsonWebKeyInput = import("node:crypto").JsonWebKey;

function checkBodyHeaders(
  req: IncomingMessage,
  body: Buffer,
  signed: readonly string[],
  mode: "required" | "optional",
): void {
  if (!BODY_METHODS.has(req.method ?? "")) return;
  if (mode === "required") {
    for (const h of ["content-length", "x-content-sha256"]) {
      if (!signed.includes(h)) throw notAuthenticated(`The ${h} header must be signed on ${req.method}.`);
    }
  }
  if (signed.includes("x-content-sha256")) {
    const sha = createHash("sha256").update(body).digest("base64");
    if (req.headers["x-content-sha256"] !== sha)
      throw notAuthenticated("x-content-sha256 does not match the body.");
  }
  if (signed.includes("content-length") && Number(req.headers["content-length"]) !== body.length) {
    throw notAuthenticated("content-length does not match the body.");
  }
}

const parsedKeys = new Map<string, Key>();

/** sshpk key objects by PEM: parsing a PEM costs more than verifying one signature with it. */
export function parsedKey(pem: string): Key {
  let key = parsedKeys.get(pem);
  if (!key) {
    key = sshpk.parseKey(pem, "pem");
    if (parsedKeys.size > 10_000) parsedKeys.clear();
    parsedKeys.set(pem, key);
  }
  return key;
}

export function allows(principal: Principal, compartmentId: string): boolean {
  return principal.compartments === undefined || principal.compartments.has(compartmentId);
}
