/**
 * Resource principals (v2.2, what OCI Functions injects) and instance principals (metadata service
 * certificates + the X.509 federation endpoint). X.509 certificates are made with sshpk, the library
 * oci-common itself parses them with, so the SDK reads exactly what we produce.
 */
import { createHash, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import httpSignature, { type ParsedSignature } from "http-signature";
import sshpk, { type Identity } from "sshpk";
import { type Authenticator, CLOCK_SKEW_SECONDS, newRsaKeyPair, parsedKey, type RsaKeyPair } from "./auth.js";
import { invalidParameter, notAuthenticated } from "./errors.js";
import { newOcid } from "./ocid.js";

export interface ResourcePrincipalRequest {
  compartmentId: string;
  tenancyId?: string;
  compartments?: string[];
  ttlSeconds?: number;
  region?: string;
  /** The principal's id (the `sub` claim), e.g. a function OCID. Default: a new fnfunc OCID. */
  principalId?: string;
}

/** A type alias (not an interface) so it can be passed where a plain env record is expected. */
export type ResourcePrincipalEnv = {
  OCI_RESOURCE_PRINCIPAL_VERSION: "2.2";
  OCI_RESOURCE_PRINCIPAL_RPST: string;
  OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: string;
  OCI_RESOURCE_PRINCIPAL_REGION: string;
};

export async function mintResourcePrincipal(
  auth: Authenticator,
  req: ResourcePrincipalRequest,
  defaults: { tenancyId: string; region: string },
): Promise<{ principalId: string; env: ResourcePrincipalEnv }> {
  const session = await newRsaKeyPair();
  const principalId = req.principalId ?? newOcid("fnfunc");
  const tenancyId = req.tenancyId ?? defaults.tenancyId;
  const rpst = await auth.mintToken({
    sub: principalId,
    kind: "resourcePrincipal",
    tenancyId,
    compartments: req.compartments,
    sessionPublicKey: session.publicKey,
    ttlSeconds: req.ttlSeconds ?? 3600,
    extra: {
      res_type: "fnfunc",
      res_id: principalId,
      res_tenant: tenancyId,
      res_compartment: req.compartmentId,
    },
  });
  return {
    principalId,
    env: {
      OCI_RESOURCE_PRINCIPAL_VERSION: "2.2",
      OCI_RESOURCE_PRINCIPAL_RPST: rpst,
      OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: session.privateKeyPem,
      OCI_RESOURCE_PRINCIPAL_REGION: req.region ?? defaults.region,
    },
  };
}

export interface InstanceIdentity {
  instanceId: string;
  compartmentId: string;
  tenancyId: string;
  compartments: string[] | undefined;
  certPem: string;
  keyPem: string;
  /** sha1 of the leaf certificate's DER, lowercase hex (what the SDK puts in its keyId). */
  fingerprint: string;
  leafPublicKeyPem: string;
}

/** Certificates for instance principals: one intermediate CA, one leaf per instance identity. */
export class InstanceIdentities {
  readonly #byFingerprint = new Map<string, InstanceIdentity>();
  #current: InstanceIdentity | undefined;
  readonly #ca: RsaKeyPair;
  readonly #caIdentity: Identity;
  readonly intermediatePem: string;

  private constructor(ca: RsaKeyPair) {
    this.#ca = ca;
    this.#caIdentity = sshpk.identityFromArray([
      { name: "cn", value: "OCI Emulator Intermediate CA" },
      { name: "o", value: "oci-emulator" },
    ]);
    const caKey = sshpk.parsePrivateKey(ca.privateKeyPem, "pem");
    this.intermediatePem = sshpk
      .createSelfSignedCertificate(this.#caIdentity, caKey, { lifetime: 10 * 365 * 24 * 3600 })
      .toString("pem");
  }

  static async create(): Promise<InstanceIdentities> {
    return new InstanceIdentities(await newRsaKeyPair());
  }

  get current(): InstanceIdentity | undefined {
    return this.#current;
  }

  /** Issue a leaf certificate for an instance and make it what the metadata endpoints serve. */
  async issue(instanceId: string, compartmentId: string, tenancyId: string, compartments?: string[]) {
    const leaf = await newRsaKeyPair();
    const subject = sshpk.identityFromArray([
      { name: "cn", value: instanceId },
      { name: "ou", value: "opc-certtype:instance" },
      { name: "ou", value: `opc-compartment:${compartmentId}` },
      { name: "ou", value: `opc-instance:${instanceId}` },
      { name: "ou", value: `opc-tenant:${tenancyId}` },
    ]);
    const caKey = sshpk.parsePrivateKey(this.#ca.privateKeyPem, "pem");
    const cert = sshpk.createCertificate(
      subject,
      sshpk.parseKey(leaf.publicKeyPem, "pem"),
      this.#caIdentity,
      caKey,
      {
        lifetime: 365 * 24 * 3600,
        serial: Buffer.from(createHash("sha1").update(instanceId).digest().subarray(0, 8)),
      },
    );
    const der = cert.toBuffer("x509");
    const identity: InstanceIdentity = {
      instanceId,
      compartmentId,
      tenancyId,
      compartments,
      certPem: cert.toString("pem"),
      // The metadata service serves a PKCS#1 key, as IMDS does.
      keyPem: leaf.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      fingerprint: createHash("sha1").update(der).digest("hex"),
      leafPublicKeyPem: leaf.publicKeyPem,
    };
    this.#byFingerprint.set(identity.fingerprint, identity);
    this.#current = identity;
    return identity;
  }

  /**
   * `POST /v1/x509`: the SDK signs with the instance's leaf key, keyId `tenancy/fed-x509/<sha1 of cert>`,
   * and sends `{certificate, publicKey, intermediateCertificates, purpose}` (base64 DER, PEM armour and
   * newlines stripped). We check each of those against what we issued, then mint a token whose `jwk`
   * is the session key the client sent.
   */
  async federate(
    auth: Authenticator,
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ token: string; instanceId: string }> {
    let parsed: ParsedSignature;
    try {
      parsed = httpSignature.parseRequest(req, {
        clockSkew: CLOCK_SKEW_SECONDS,
        headers: ["(request-target)", "host", "content-length", "x-content-sha256"],
        algorithms: ["rsa-sha256"],
      });
    } catch (e) {
      throw notAuthenticated(`Invalid signature: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!parsed.params.headers.includes("date") && !parsed.params.headers.includes("x-date")) {
      throw notAuthenticated("The date or x-date header must be signed.");
    }
    if (req.headers["x-content-sha256"] !== createHash("sha256").update(body).digest("base64")) {
      throw notAuthenticated("x-content-sha256 does not match the body.");
    }
    const [tenancyId, kind, fingerprint, ...more] = parsed.keyId.split("/");
    if (kind !== "fed-x509" || !tenancyId || !fingerprint || more.length > 0) {
      throw notAuthenticated("keyId must be <tenancy>/fed-x509/<certificate sha1 fingerprint>.");
    }
    const identity = this.#byFingerprint.get(fingerprint.toLowerCase().replaceAll(":", ""));
    if (!identity) throw notAuthenticated("Unknown certificate fingerprint.");
    if (identity.tenancyId !== tenancyId)
      throw notAuthenticated("The keyId's tenancy is not the certificate's.");
    let ok = false;
    try {
      ok = httpSignature.verifySignature(parsed, parsedKey(identity.leafPublicKeyPem));
    } catch {
      ok = false;
    }
    if (!ok) throw notAuthenticated("Signature verification failed.");

    let payload: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(body.toString("utf8"));
      if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
      payload = v as Record<string, unknown>;
    } catch {
      throw invalidParameter("The federation request body must be a JSON object.");
    }
    const { certificate, publicKey, intermediateCertificates, purpose } = payload;
    if (typeof certificate !== "string" || typeof publicKey !== "string") {
      throw invalidParameter("certificate and publicKey are required.");
    }
    if (purpose !== undefined && purpose !== "DEFAULT")
      throw invalidParameter(`Unsupported purpose: ${String(purpose)}`);
    let certDer: Buffer;
    try {
      certDer = new X509Certificate(Buffer.from(certificate, "base64")).raw;
    } catch {
      throw invalidParameter("certificate is not a base64 DER X.509 certificate.");
    }
    if (createHash("sha1").update(certDer).digest("hex") !== identity.fingerprint) {
      throw notAuthenticated("The certificate does not match the signing key.");
    }
    const intermediateDer = new X509Certificate(this.intermediatePem).raw.toString("base64");
    if (!Array.isArray(intermediateCertificates) || !intermediateCertificates.includes(intermediateDer)) {
      throw notAuthenticated("The intermediate certificate is missing or unknown.");
    }
    let sessionKey: KeyObject;
    try {
      sessionKey = createPublicKey({ key: Buffer.from(publicKey, "base64"), format: "der", type: "spki" });
    } catch {
      throw invalidParameter("publicKey is not a base64 DER public key.");
    }
    if (sessionKey.asymmetricKeyType !== "rsa") throw invalidParameter("publicKey must be an RSA key.");
    const token = await auth.mintToken({
      sub: identity.instanceId,
      kind: "instancePrincipal",
      tenancyId: identity.tenancyId,
      compartments: identity.compartments,
      sessionPublicKey: sessionKey,
      ttlSeconds: 1200,
      extra: {
        "opc-instance": identity.instanceId,
        "opc-compartment": identity.compartmentId,
        "opc-tenant": identity.tenancyId,
        "opc-certtype": "instance",
      },
    });
    return { token, instanceId: identity.instanceId };
  }
}
