/**
 * A minimal Fn agent: starts a built function bundle under the Fn contract (http-stream over a
 * unix socket) and calls it the way the Fn agent inside OCI Functions does.
 *
 * Used by the emulator's Functions API, the integration tests and the benchmarks, so that every one
 * of them exercises the bundle exactly as the image runs it: `node func.js` with FN_FORMAT and
 * FN_LISTENER set, and `POST /call` with Fn-Call-Id and Fn-Deadline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { lstat, mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export interface FnProcessOptions {
  /** Path to the bundle, e.g. `start-compute/dist/func.js`. */
  bundle: string;
  /** Function config and platform env (resource principal, endpoints). Nothing else is inherited. */
  env?: Record<string, string>;
  /** Extra node flags, e.g. `--max-old-space-size=96`, after the image's own (imageNodeArgs). */
  nodeArgs?: string[];
  /** How long to wait for the socket to appear. Default 10 s. */
  startTimeoutMs?: number;
  /** Receives every line the function writes (its logs). */
  onOutput?: (stream: "stdout" | "stderr", line: string) => void;
  /** FN_MEMORY reported to the function, in MB. Default 128. */
  memoryMb?: number;
}

export interface FnCallOptions {
  /** The invocation deadline sent as Fn-Deadline. */
  deadline: Date;
  callId?: string;
  /** Extra request headers (e.g. Fn-Http-Method for gateway-style calls). */
  headers?: Record<string, string>;
  contentType?: string;
  /** Give up on the socket this long after the deadline. Default 5 s. */
  graceMs?: number;
}

export interface FnResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The node flags the function's image starts it with: the ENTRYPOINT of the Dockerfile next to the
 * bundle's dist/ (`["node", <flags>…, "/function/func.js"]`), so a bundle spawned here runs exactly
 * as in the image. [] when there is no such Dockerfile (e.g. a test fixture); a Dockerfile whose
 * ENTRYPOINT is not that exec form is an error, not a silent difference.
 */
export function imageNodeArgs(bundle: string): string[] {
  const dockerfile = join(dirname(dirname(resolve(bundle))), "Dockerfile");
  if (!existsSync(dockerfile)) return [];
  const line = readFileSync(dockerfile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("ENTRYPOINT "));
  let entry: unknown;
  try {
    entry = JSON.parse(line?.slice("ENTRYPOINT ".length) ?? "");
  } catch {
    entry = undefined;
  }
  const ok =
    Array.isArray(entry) &&
    entry.length >= 2 &&
    entry[0] === "node" &&
    entry.every((part) => typeof part === "string") &&
    entry[entry.length - 1] === "/function/func.js";
  if (!ok) {
    throw new FnStartError(
      `${dockerfile}: ENTRYPOINT must be ["node", <node flags>..., "/function/func.js"]`,
    );
  }
  return (entry as string[]).slice(1, -1);
}

export class FnStartError extends Error {
  override readonly name = "FnStartError";
}

const TAIL_LINES = 200;
const POLL_MS = 2;

export class FnProcess {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #socketPath: string;
  readonly #tail: string[] = [];
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, dir: string, socketPath: string, opts: FnProcessOptions) {
    this.#child = child;
    this.#dir = dir;
    this.#socketPath = socketPath;
    this.#exited = new Promise((done) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        done();
      });
    });
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream]?.setEncoding("utf8");
      child[stream]?.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) this.#line(stream, line, opts);
      });
      child[stream]?.on("end", () => {
        if (partial) this.#line(stream, partial, opts);
        partial = "";
      });
    }
  }

  #line(stream: "stdout" | "stderr", line: string, opts: FnProcessOptions): void {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    opts.onOutput?.(stream, line);
  }

  /** Spawns the bundle and resolves once its socket is ready. */
  static async start(opts: FnProcessOptions): Promise<FnProcess> {
    const bundle = resolve(opts.bundle);
    if (!existsSync(bundle)) {
      throw new FnStartError(`function bundle ${bundle} does not exist: run \`npm run build\` first`);
    }
    // Unix socket paths are limited to 107 bytes: keep the directory short.
    const dir = await mkdtemp(join(tmpdir(), "fn-"));
    const socketPath = join(dir, "fn.sock");
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      TMPDIR: dir,
      ...opts.env,
      FN_FORMAT: "http-stream",
      FN_LISTENER: `unix:${socketPath}`,
      FN_MEMORY: String(opts.memoryMb ?? 128),
      FN_TYPE: "sync",
    };
    const child = spawn(process.execPath, [...imageNodeArgs(bundle), ...(opts.nodeArgs ?? []), bundle], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const fn = new FnProcess(child, dir, socketPath, opts);
    try {
      await fn.#waitForSocket(opts.startTimeoutMs ?? 10_000);
    } catch (err) {
      await fn.stop();
      throw err;
    }
    return fn;
  }

  async #waitForSocket(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exit) {
        throw new FnStartError(
          `function exited before listening (code ${this.#exit.code}, signal ${this.#exit.signal}):\n${this.output()}`,
        );
      }
      // The FDK creates the requested path as a symlink to its real socket once it listens.
      const ready = await lstat(this.#socketPath).then(
        () => true,
        () => false,
      );
      if (ready) return;
      if (Date.now() > until) {
        throw new FnStartError(`function did not listen on ${this.#socketPath} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** The last lines the function wrote, for error messages. */
  output(): string {
    return this.#tail.join("\n");
  }

  /** Sends one invocation, as the Fn agent does. */
  call(body: string | Buffer, opts: FnCallOptions): Promise<FnResponse> {
    const payload = typeof body === "string" ? Buffer.from(body) : body;
    const headers: Record<string, string> = {
      "Content-Type": opts.contentType ?? "application/json",
      "Content-Length": String(payload.length),
      "Fn-Call-Id": opts.callId ?? randomUUID(),
      "Fn-Deadline": opts.deadline.toISOString(),
      ...opts.headers,
    };
    const limitMs = Math.max(0, opts.deadline.getTime() - Date.now()) + (opts.graceMs ?? 5_000);
    return new Promise((resolvePromise, reject) => {
      const req = request(
        { socketPath: this.#socketPath, method: "POST", path: "/call", headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            clearTimeout(timer);
            const flat: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
            }
            resolvePromise({
              status: res.statusCode ?? 0,
              headers: flat,
              body: Buffer.concat(chunks).toString(),
            });
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`function gave no answer within ${limitMs} ms (deadline plus grace)`));
      }, limitMs);
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(payload);
    });
  }

  /** Stops the process (SIGTERM, then SIGKILL) and removes its socket directory. */
  async stop(): Promise<void> {
    if (this.alive) {
      this.#child.kill("SIGTERM");
      const killer = setTimeout(() => this.#child.kill("SIGKILL"), 2_000);
      await this.#exited;
      clearTimeout(killer);
    }
    await rm(this.#dir, { recursive: true, force: true });
  }

  /** Resolves when the process exits, for whatever reason. */
  exited(): Promise<void> {
    return this.#exited;
  }
}
