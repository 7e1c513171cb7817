// http-signature ships no TypeScript types; this declares the part the emulator uses.
declare module "http-signature" {
  import type { IncomingMessage } from "node:http";
  import type { Key } from "sshpk";
  export interface ParsedSignature {
    scheme: string;
    params: { keyId: string; algorithm: string; headers: string[]; signature: string };
    signingString: string;
    algorithm: string;
    keyId: string;
  }
  export interface ParseOptions {
    clockSkew?: number;
    headers?: string[];
    algorithms?: string[];
    strict?: boolean;
  }
  export function parseRequest(request: IncomingMessage, options?: ParseOptions): ParsedSignature;
  export function verifySignature(parsed: ParsedSignature, pubkey: string | Buffer | Key): boolean;
  const httpSignature: {
    parseRequest: typeof parseRequest;
    verifySignature: typeof verifySignature;
  };
  export default httpSignature;
}
