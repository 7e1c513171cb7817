/**
 * `npm run emulator -- --port 0 [--state file.json] [--time-scale x] [--regions us-ashburn-1,us-phoenix-1]`
 * Prints one JSON line `{"url", "port", "region", "regions", "tenancyId"}` first, then serves until
 * SIGINT/SIGTERM. `--regions` adds served regions (each under `/<name>`) to the state's.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { OciHttpError } from "./errors.js";
import { startEmulator } from "./index.js";
import type { EmulatorState } from "./model.js";

async function main(): Promise<number> {
  let values: { port?: string; state?: string; "time-scale"?: string; regions?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        state: { type: "string" },
        "time-scale": { type: "string" },
        regions: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(
      "usage: emulator [--port N (0 = any)] [--state file.json] [--time-scale x] [--regions name,name...]\n",
    );
    return 0;
  }
  const port = Number(values.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer in 0..65535, got ${values.port}\n`);
    return 2;
  }
  let timeScale: number | undefined;
  if (values["time-scale"] !== undefined) {
    timeScale = Number(values["time-scale"]);
    if (!Number.isFinite(timeScale) || timeScale < 0) {
      process.stderr.write(`--time-scale must be a number >= 0, got ${values["time-scale"]}\n`);
      return 2;
    }
  }
  let state: EmulatorState = {};
  if (values.state) {
    try {
      state = JSON.parse(await readFile(values.state, "utf8")) as EmulatorState;
    } catch (e) {
      process.stderr.write(
        `cannot read state file ${values.state}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
      return 2;
    }
  }
  const regions = (values.regions ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emu = await startEmulator({ port, state, regions, ...(timeScale !== undefined ? { timeScale } : {}) });
  } catch (e) {
    // A bad state file or an unknown region name: say which, exit 2 like any other bad input.
    if (!(e instanceof OciHttpError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  const { url, port: listening, region, tenancyId } = emu;
  process.stdout.write(
    `${JSON.stringify({ url, port: listening, region, regions: emu.regions, tenancyId })}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await emu.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`emulator failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
