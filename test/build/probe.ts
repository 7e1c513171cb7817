/**
 * Runs test/build/sdk-probe.ts as a process: over the full SDK from node_modules (through tsx) or as
 * the built, slimmed dist/sdk-probe.cjs. A process of its own, so an emulator in the test's process
 * keeps answering while it runs.
 */
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const PROBE_BUNDLE = join(root, "dist/sdk-probe.cjs");
export const PROBE_SOURCE = join(root, "test/build/sdk-probe.ts");
const PROBE_DEADLINE_MS = 60_000;

/** Runs the probe (full SDK via tsx, or the bundle) with a clean env; bounded by PROBE_DEADLINE_MS. */
export function runProbe(
  build: "full" | "bundle",
  mode: "ops" | "endpoints",
  env: Record<string, string>,
): Promise<unknown> {
  const args = build === "full" ? ["--import", "tsx", PROBE_SOURCE, mode] : [PROBE_BUNDLE, mode];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${build} probe gave no answer within ${PROBE_DEADLINE_MS} ms; stderr: ${stderr}`));
    }, PROBE_DEADLINE_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) reject(new Error(`${build} probe exited ${code}: ${stderr}${stdout}`));
      else resolve(JSON.parse(last));
    });
  });
}
