// sshpk ships no TypeScript types; this declares the certificate part the emulator uses.
declare module "sshpk" {
  export interface Identity {
    toString(): string;
  }
  export interface Key {
    toString(format: string): string;
  }
  export interface PrivateKey {
    toPublic(): Key;
    toString(format: string): string;
  }
  export interface Certificate {
    toString(format: "pem" | "x509"): string;
    toBuffer(format: "pem" | "x509"): Buffer;
  }
  export interface CertificateOptions {
    lifetime?: number;
    serial?: Buffer;
    ca?: boolean;
    purposes?: string[];
  }
  export function parsePrivateKey(data: string | Buffer, format?: string): PrivateKey;
  export function parseKey(data: string | Buffer, format?: string): Key;
  export function identityFromArray(components: Array<{ name: string; value: string }>): Identity;
  export function createSelfSignedCertificate(
    subject: Identity,
    key: PrivateKey,
    options?: CertificateOptions,
  ): Certificate;
  export function createCertificate(
    subject: Identity,
    key: Key | PrivateKey,
    issuer: Identity,
    issuerKey: PrivateKey,
    options?: CertificateOptions,
  ): Certificate;
  const sshpk: {
    parsePrivateKey: typeof parsePrivateKey;
    parseKey: typeof parseKey;
    identityFromArray: typeof identityFromArray;
    createSelfSignedCertificate: typeof createSelfSignedCertificate;
    createCertificate: typeof createCertificate;
  };
  export default sshpk;
}
