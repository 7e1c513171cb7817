/**
 * The real OCI CLI (from .tools/oci-cli, installed by scripts/setup-tools.sh) against the emulator's
 * instance pools, OKE node pools and container instances: one power command of each kind, waited on
 * the way an operator would (`--wait-for-state`), cross-checked through the admin API.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator/src/index.js";
import { ociConfigProfile, startEmulator } from "../../emulator/src/index.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const OCI = join(ROOT, ".tools/oci-cli/bin/oci");
const FLEET = "ocid1.compartment.oc1..aaaaaaaaclikinds";
const POOL = "ocid1.instancepool.oc1.iad.aaaaaaaaclipool";
const NODE_POOL = "ocid1.nodepool.oc1.iad.aaaaaaaaclinodepool";
const CONTAINER = "ocid1.computecontainerinstance.oc1.iad.aaaaaaaacliapi";

let emu: RunningEmulator;
let dir: string;
let authArgs: string[];

/** Runs the CLI and parses its JSON output; fails with the CLI's stderr on a non-zero exit. */
async function oci<T>(...args: string[]): Promise<T> {
  let out: { stdout: string; stderr: string };
  try {
    const waits = args.includes("--wait-for-state") ? ["--wait-interval-seconds", "1"] : [];
    out = await run(OCI, [...authArgs, ...args, ...waits], {
      env: {
        ...process.env,
        SUPPRESS_LABEL_WARNING: "True",
        OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING: "True",
      },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new Error(`oci ${args.join(" ")} failed: ${e.stderr ?? ""}${e.stdout ?? ""}`);
  }
  expect(out.stderr + out.stdout, `oci ${args.join(" ")}`).not.toMatch(/ServiceError|Traceback/);
  // With --wait-for-state the CLI prints a progress line before the JSON.
  return JSON.parse(out.stdout.slice(out.stdout.indexOf("{"))) as T;
}

beforeAll(async () => {
  if (!existsSync(OCI))
    throw new Error(`${OCI} is missing: run scripts/setup-tools.sh (npm test runs it first)`);
  emu = await startEmulator({
    timeScale: 0.01,
    state: {
      instancePools: [
        { id: POOL, compartmentId: FLEET, displayName: "web", lifecycleState: "RUNNING", size: 2 },
      ],
      nodePools: [
        { id: NODE_POOL, compartmentId: FLEET, name: "workers", size: 2, freeformTags: { team: "k8s" } },
      ],
      containerInstances: [
        { id: CONTAINER, compartmentId: FLEET, displayName: "api", lifecycleState: "INACTIVE" },
      ],
    },
  });
  const key = await emu.admin.generateApiKey({ userId: "ocid1.user.oc1..aaaaaaaaclikinds" });
  dir = await mkdtemp(join(tmpdir(), "oci-cli-kinds-"));
  const keyFile = join(dir, "key.pem");
  await writeFile(keyFile, key.privateKeyPem, { mode: 0o600 });
  const config = join(dir, "config");
  await writeFile(config, ociConfigProfile(key, keyFile), { mode: 0o600 });
  authArgs = ["--config-file", config, "--endpoint", emu.url];
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Data<T> {
  data: T;
}

describe("oci compute-management instance-pool", () => {
  it("softstop, then stop (no-op) and start, waiting for the pool's state", async () => {
    const soft = await oci<Data<{ "lifecycle-state": string }>>(
      "compute-management",
      "instance-pool",
      "softstop",
      "--instance-pool-id",
      POOL,
      "--wait-for-state",
      "STOPPED",
    );
    expect(soft.data["lifecycle-state"]).toBe("STOPPED");
    const pool = await emu.admin.getInstancePool(POOL);
    for (const member of pool.instanceIds) {
      expect((await emu.admin.getInstance(member)).lifecycleState).toBe("STOPPED");
    }
    const again = await oci<Data<{ "lifecycle-state": string }>>(
      "compute-management",
      "instance-pool",
      "stop",
      "--instance-pool-id",
      POOL,
    );
    expect(again.data["lifecycle-state"]).toBe("STOPPED");
    const started = await oci<Data<{ "lifecycle-state": string }>>(
      "compute-management",
      "instance-pool",
      "start",
      "--instance-pool-id",
      POOL,
      "--wait-for-state",
      "RUNNING",
    );
    expect(started.data["lifecycle-state"]).toBe("RUNNING");
    const { calls } = await emu.admin.calls();
    expect(
      calls.filter((c) => c.targetId === POOL && c.action).map((c) => [c.operation, c.transition]),
    ).toEqual([
      ["SoftstopInstancePool", true],
      ["StopInstancePool", false],
      ["StartInstancePool", true],
    ]);
  });
});

describe("oci ce node-pool update", () => {
  it("to size 0 recording the size in a tag, and back, each waiting for its work request", async () => {
    const down = await oci<Data<{ status: string; "operation-type": string }>>(
      "ce",
      "node-pool",
      "update",
      "--node-pool-id",
      NODE_POOL,
      "--size",
      "0",
      "--freeform-tags",
      JSON.stringify({ team: "k8s", "power-previous-size": "2" }),
      "--force",
      "--wait-for-state",
      "SUCCEEDED",
    );
    expect(down.data).toMatchObject({ status: "SUCCEEDED", "operation-type": "NODEPOOL_UPDATE" });
    const zero = await oci<Data<{ nodes: unknown[]; "freeform-tags": Record<string, string> }>>(
      "ce",
      "node-pool",
      "get",
      "--node-pool-id",
      NODE_POOL,
    );
    expect(zero.data.nodes).toEqual([]);
    expect(zero.data["freeform-tags"]).toEqual({ team: "k8s", "power-previous-size": "2" });
    const up = await oci<Data<{ status: string }>>(
      "ce",
      "node-pool",
      "update",
      "--node-pool-id",
      NODE_POOL,
      "--size",
      zero.data["freeform-tags"]["power-previous-size"] ?? "",
      "--force",
      "--wait-for-state",
      "SUCCEEDED",
    );
    expect(up.data.status).toBe("SUCCEEDED");
    const back = await emu.admin.getNodePool(NODE_POOL);
    expect(back.nodes.map((n) => n.lifecycleState)).toEqual(["ACTIVE", "ACTIVE"]);
  });
});

describe("oci container-instances container-instance", () => {
  it("start then stop, each waiting for its work request", async () => {
    for (const [verb, state] of [
      ["start", "ACTIVE"],
      ["stop", "INACTIVE"],
    ] as const) {
      const res = await oci<Data<{ status: string; "operation-type": string }>>(
        "container-instances",
        "container-instance",
        verb,
        "--container-instance-id",
        CONTAINER,
        "--wait-for-state",
        "SUCCEEDED",
      );
      expect(res.data).toMatchObject({
        status: "SUCCEEDED",
        "operation-type": `${verb.toUpperCase()}_CONTAINER_INSTANCE`,
      });
      expect((await emu.admin.getContainerInstance(CONTAINER)).lifecycleState).toBe(state);
    }
  });
});
