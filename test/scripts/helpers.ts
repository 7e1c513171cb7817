import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const scriptsDir = join(repoRoot, "scripts");
export const shellcheckBin = join(repoRoot, ".tools/shellcheck/bin/shellcheck");

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
}

/** Environment for a script run: the test's own, minus anything that would change the scripts' choices. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const drop = new Set([
    "OCI_BIN",
    "OCI_CLI_AUTH_ARGS",
    "FN_APP",
    "FN_BIN",
    "START_FUNCTION_ID",
    "STOP_FUNCTION_ID",
    "SCHEDULE_LOG_DIR",
    "SCHEDULE_LOG_MAX_BYTES",
    "SCHEDULE_LOG_KEEP",
    "SCHEDULE_READ_TIMEOUT",
    "SCHEDULE_TIMEOUT",
    "SCHEDULE_NOTIFY",
    "SCHEDULE_TIME_ZONE",
    "SCHEDULE_NOW",
    "NOTIFY_TOPIC_ID",
    "DEPLOY_ROOT",
    "DOCKER_BIN",
    "TERRAFORM_BIN",
    "OCIR_USERNAME",
    "OCIR_AUTH_TOKEN",
  ]);
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !drop.has(key)) env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runScript(script: string, args: string[], options: RunOptions = {}): RunResult {
  const result = spawnSync("bash", [join(scriptsDir, script), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: baseEnv(options.env),
    input: options.input ?? "",
    encoding: "utf8",
    timeout: 30_000,
  });
  // EPIPE: the script exited (e.g. on a usage error) before reading the input we offered it.
  if (result.error && (result.error as NodeJS.ErrnoException).code !== "EPIPE") throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts a script without waiting for it; resolves with its result when it exits. */
export function startScript(
  script: string,
  args: string[],
  options: RunOptions = {},
): { done: Promise<RunResult> } {
  const child = spawn("bash", [join(scriptsDir, script), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: baseEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<RunResult>((resolvePromise, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
  return { done };
}

const tempDirs: string[] = [];

/** A fresh temporary directory, removed by removeTempDirs(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A stand-in for the OCI CLI: records its arguments (one per line) in $FAKE_OCI_ARGS_FILE, writes
 * $FAKE_OCI_RESPONSE to the --file path, prints $FAKE_OCI_STDERR to stderr, exits $FAKE_OCI_EXIT.
 * With $FAKE_OCI_GATE set it first creates "$FAKE_OCI_GATE.started" and waits until $FAKE_OCI_GATE exists.
 */
export function writeFakeOci(dir: string): string {
  const path = join(dir, "oci");
  writeFileSync(
    path,
    `#!/usr/bin/env bash
set -euo pipefail
if [ -n "\${FAKE_OCI_ARGS_FILE:-}" ]; then printf '%s\\n' "$@" > "$FAKE_OCI_ARGS_FILE"; fi
if [ -n "\${FAKE_OCI_GATE:-}" ]; then
  : > "$FAKE_OCI_GATE.started"
  for _ in $(seq 1 600); do [ -e "$FAKE_OCI_GATE" ] && break; sleep 0.05; done
fi
out=""
while [ "$#" -gt 0 ]; do
  case "$1" in --file) out="$2"; shift 2 ;; *) shift ;; esac
done
if [ -n "\${FAKE_OCI_RESPONSE+set}" ]; then
  if [ "$out" = "-" ]; then printf '%s' "$FAKE_OCI_RESPONSE"; elif [ -n "$out" ]; then printf '%s' "$FAKE_OCI_RESPONSE" > "$out"; fi
fi
if [ -n "\${FAKE_OCI_STDERR:-}" ]; then printf '%s\\n' "$FAKE_OCI_STDERR" >&2; fi
exit "\${FAKE_OCI_EXIT:-0}"
`,
  );
  chmodSync(path, 0o755);
  return path;
}

export async function waitForFile(path: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
