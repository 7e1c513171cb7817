/**
 * Stands in for sshpk in the bundles (scripts/build.ts aliases it). sshpk and what it pulls in
 * (tweetnacl, jsbn, ecc-jsbn, bcrypt-pbkdf, asn1: ~190 KB) were the largest part of a bundle and of
 * its start-up, yet oci-common asks it for little, all of which node:crypto does natively:
 * - `parsePrivateKey(pem, "auto", {passphrase})` then `toBuffer("pem")` (the signer, the resource
 *   principal's and the config file's key) and `toPublic().toString("pem")`;
 * - `parseCertificate(pem, "pem")` then `toString("pem")`, `fingerprint("sha1").toString("hex")` and
 *   `subjects[].components[].value` (the instance principal's leaf and intermediate certificates).
 * PEM output matches sshpk's byte for byte (PKCS#1 for RSA private keys, SPKI for public keys;
 * test/build/shims.test.ts compares them). Keys node:crypto cannot read (OpenSSH's own format, a wrong
 * passphrase) fail with a message saying which format is expected.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";

type Input = string | Buffer;

interface ParseOptions {
  passphrase?: string | Buffer;
}

class Fingerprint {
  constructor(private readonly digest: Buffer) {}

  /** "hex" is colon-separated, as sshpk writes it (the instance principal's keyId carries it). */
  toString(format = "hex"): string {
    if (format === "hex") return this.digest.toString("hex").replace(/(..)(?!$)/g, "$1:");
    if (format === "base64") return this.digest.toString("base64");
    throw new Error(`sshpk shim: fingerprint format ${JSON.stringify(format)} is not bundled (hex, base64)`);
  }
}

export class Key {
  constructor(readonly key: KeyObject) {}

  get type(): string {
    return this.key.asymmetricKeyType ?? "unknown";
  }

  toString(format = "pem"): string {
    if (format !== "pem" && format !== "pkcs8" && format !== "spki") {
      throw new Error(`sshpk shim: public key format ${JSON.stringify(format)} is not bundled (pem)`);
    }
    return this.key.export({ type: "spki", format: "pem" }).toString();
  }
}

export class PrivateKey {
  constructor(readonly key: KeyObject) {}

  get type(): string {
    return this.key.asymmetricKeyType ?? "unknown";
  }

  /** sshpk's "pem": PKCS#1 for RSA, SEC1 for EC; "pkcs8" on request. */
  toBuffer(format = "pem"): Buffer {
    if (format === "pkcs8") return Buffer.from(this.key.export({ type: "pkcs8", format: "pem" }));
    if (format !== "pem") {
      throw new Error(`sshpk shim: private key format ${JSON.stringify(format)} is not bundled (pem, pkcs8)`);
    }
    const type = this.type === "rsa" ? "pkcs1" : this.type === "ec" ? "sec1" : "pkcs8";
    return Buffer.from(this.key.export({ type, format: "pem" }));
  }

  toString(format = "pem"): string {
    return this.toBuffer(format).toString("utf8");
  }

  toPublic(): Key {
    return new Key(createPublicKey(this.key));
  }
}

export function parsePrivateKey(data: Input, format = "auto", options: ParseOptions = {}): PrivateKey {
  if (format !== "auto" && format !== "pem" && format !== "pkcs1" && format !== "pkcs8") {
    throw new Error(`sshpk shim: private key format ${JSON.stringify(format)} is not bundled (auto, pem)`);
  }
  const text = Buffer.isBuffer(data) ? data.toString("utf8") : String(data);
  if (text.includes("-----BEGIN OPENSSH PRIVATE KEY-----")) {
    throw new Error(
      "private key is in OpenSSH format, which this build does not read: use a PEM key (PKCS#8 or PKCS#1), e.g. `ssh-keygen -p -m PEM -f <key>` or the key the OCI console generates",
    );
  }
  try {
    const passphrase = options.passphrase;
    return new PrivateKey(
      passphrase === undefined || passphrase === ""
        ? createPrivateKey({ key: text, format: "pem" })
        : createPrivateKey({ key: text, format: "pem", passphrase }),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `private key could not be read as PEM (PKCS#8 or PKCS#1, encrypted with the passphrase if one is given): ${reason}`,
    );
  }
}

interface Component {
  name: string;
  value: string;
}

export class Certificate {
  readonly subjects: { components: Component[] }[];

  constructor(private readonly x509: X509Certificate) {
    const components = x509.subject
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => {
        const at = line.indexOf("=");
        return { name: line.slice(0, at).toLowerCase(), value: line.slice(at + 1) };
      });
    this.subjects = [{ components }];
  }

  toString(format = "pem"): string {
    if (format !== "pem") {
      throw new Error(`sshpk shim: certificate format ${JSON.stringify(format)} is not bundled (pem)`);
    }
    return this.x509.toString();
  }

  fingerprint(algorithm = "sha256"): Fingerprint {
    return new Fingerprint(createHash(algorithm).update(this.x509.raw).digest());
  }
}

export function parseCertificate(data: Input, format = "pem"): Certificate {
  if (format !== "pem") {
    throw new Error(`sshpk shim: certificate format ${JSON.stringify(format)} is not bundled (pem)`);
  }
  try {
    return new Certificate(new X509Certificate(Buffer.isBuffer(data) ? data : String(data)));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`certificate could not be read as PEM X.509: ${reason}`);
  }
}
