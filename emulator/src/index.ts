/** In-process entry point: `const emu = await startEmulator({ timeScale: 0.01 })`. */
import { EmulatorAdmin } from "./admin-client.js";
import { Emulator } from "./emulator.js";
import type { EmulatorState } from "./model.js";

export type * from "./admin-client.js";
export { EmulatorAdmin, ociConfigProfile } from "./admin-client.js";
export type * from "./alerts-admin.js";
export { AlertsAdmin } from "./alerts-admin.js";
export type { EmulatorState, RegionState } from "./model.js";

export interface StartOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Seed state (the state-file format). */
  state?: EmulatorState;
  /** Overrides `state.timeScale`. Durations are multiplied by it; default 1 (OCI-like). */
  timeScale?: number;
  /** More regions to serve (empty state), besides the default one and those in `state.regions`. */
  regions?: readonly string[];
  /** Receives every line a function process writes (default: discarded, kept as a tail per function). */
  onFunctionOutput?: (functionId: string, stream: "stdout" | "stderr", line: string) => void;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  /** The default region (unprefixed paths). */
  region: string;
  /** Every served region's name, the default one first. */
  regions: string[];
  tenancyId: string;
  admin: EmulatorAdmin;
  /** A region's base URL, `http://127.0.0.1:PORT/<region>`: set it as an SDK client's endpoint. */
  regionUrl(region: string): string;
  close(): Promise<void>;
}

export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const emulator = await Emulator.create(options.state ?? {}, options.timeScale, options.regions);
  emulator.functions.onOutput = options.onFunctionOutput;
  const url = await emulator.listen(options.port ?? 0);
  let closed: Promise<void> | undefined;
  return {
    url,
    port: Number(new URL(url).port),
    region: emulator.region,
    get regions() {
      return emulator.servedRegions().map((r) => r.name);
    },
    tenancyId: emulator.tenancyId,
    admin: new EmulatorAdmin(url),
    regionUrl: (region) => `${url}/${region}`,
    close: () => {
      closed ??= emulator.close();
      return closed;
    },
  };
}
