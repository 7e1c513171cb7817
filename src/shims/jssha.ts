/**
 * Stands in for jssha in the bundles (scripts/build.ts aliases it). oci-common only ever asks it for
 * `new jsSHA("SHA-256", "TEXT")`, `update(string)` and `getHash("B64")` (the x-content-sha256 of a
 * request body); node:crypto computes the same digest without 23 KB of pure-JS hashing. Any other
 * use fails loudly instead of hashing differently.
 */
import { createHash, type Hash } from "node:crypto";

export default class JsSha {
  readonly #hash: Hash;

  constructor(variant: string, inputFormat: string) {
    if (variant !== "SHA-256" || inputFormat !== "TEXT") {
      throw new Error(
        `jssha shim: only ("SHA-256", "TEXT") is bundled, got (${JSON.stringify(variant)}, ${JSON.stringify(inputFormat)})`,
      );
    }
    this.#hash = createHash("sha256");
  }

  update(text: string): void {
    this.#hash.update(text, "utf8");
  }

  getHash(format: string): string {
    if (format === "B64") return this.#hash.digest("base64");
    if (format === "HEX") return this.#hash.digest("hex");
    throw new Error(`jssha shim: output format ${JSON.stringify(format)} is not bundled (B64 or HEX)`);
  }
}
