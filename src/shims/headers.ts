/**
 * A small WHATWG-style Headers, injected by scripts/build.ts in place of the global one for the
 * bundled SDK code. Node's global Headers loads undici (~20 ms of a cold start) although our
 * transport (oci-compute.ts) speaks node:http; the SDK only needs append/set/get/has/forEach.
 * Iterable as [name, value] pairs, so it is also accepted wherever a real fetch is still used
 * (instance principal federation).
 */
type Init = Iterable<readonly [string, string]> | Record<string, string> | undefined;

export class Headers {
  readonly #values = new Map<string, string>();

  constructor(init?: Init) {
    if (!init) return;
    if (Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.append(name, value);
    } else {
      for (const [name, value] of Object.entries(init)) this.append(name, value);
    }
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const previous = this.#values.get(key);
    this.#values.set(key, previous === undefined ? String(value) : `${previous}, ${String(value)}`);
  }

  set(name: string, value: string): void {
    this.#values.set(name.toLowerCase(), String(value));
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }

  delete(name: string): void {
    this.#values.delete(name.toLowerCase());
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void): void {
    for (const [name, value] of this.#values) callback(value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    yield* this.#values.entries();
  }

  keys(): IterableIterator<string> {
    return this.#values.keys();
  }

  values(): IterableIterator<string> {
    return this.#values.values();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
