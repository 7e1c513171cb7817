import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator/src/index.js";
import { ociConfigProfile, startEmulator } from "../../emulator/src/index.js";
import { removeTempDirs, repoRoot, runScript, startScript, tempDir } from "./helpers.js";

afterEach(removeTempDirs);

const STOP_ID = "ocid1.fnfunc.oc1.phx.aaaaaaaastop";
const BODY = '{"instance_id": "ocid1.instance.oc1.phx.aaaa"}';

let dir: string;
let binDir: string;

/** A stand-in for the Fn CLI: records its arguments, its stdin and the func.yaml it ran next to. */
function writeFakeFn(): string {
  const path = join(binDir, "fn");
  writeFileSync(
    path,
    `#!/usr/bin/env bash
printf '%s\\n' "$@" >> "${join(dir, "fn-args.txt")}"
if [ "$1" = invoke ]; then cat > "${join(dir, "fn-stdin.txt")}"; printf '%s' "\${FAKE_FN_RESPONSE:-{\\"ok\\":true}}"; fi
if [ "$1" = deploy ] || [ "$1" = build ]; then
  printf '%s %s\\n' "$(basename "$PWD")" "$(grep '^version:' func.yaml)" >> "${join(dir, "fn-deployed.txt")}"
  [ -f dist/func.js ] || { echo "no bundle" >&2; exit 1; }
fi
if [ "$1" = inspect ]; then printf 'Current context: oci\\n\\napi-url: https://functions.example\\nregistry: fra.ocir.io/ns/oci-compute-power\\n'; fi
exit 0
`,
  );
  chmodSync(path, 0o755);
  return path;
}

beforeEach(() => {
  dir = tempDir("invoke-deploy");
  binDir = join(dir, "bin");
  mkdirSync(binDir);
  writeFakeFn();
});

function pathWithFakes(): string {
  return `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
}

describe("invoke.sh, its oci path against the local stack (real OCI CLI, built bundles)", () => {
  const OCI = join(repoRoot, ".tools/oci-cli/bin/oci");
  const FLEET = "ocid1.compartment.oc1..aaaaaaaainvokefleet";
  const APP = "ocid1.fnapp.oc1.iad.aaaaaaaainvokeapp";
  const START = "ocid1.fnfunc.oc1.iad.aaaaaaaainvokestart";
  const STOP = "ocid1.fnfunc.oc1.iad.aaaaaaaainvokestop";
  const target = (n: string) => `ocid1.instance.oc1.iad.aaaaaaaainvoke${n}`;
  let emu: RunningEmulator;
  let stackDir: string;
  let authArgs: string;

  beforeAll(async () => {
    if (!existsSync(OCI))
      throw new Error(`${OCI} is missing: run scripts/setup-tools.sh (npm test runs it first)`);
    const bundle = (name: string) => {
      const path = join(repoRoot, name, "dist/func.js");
      if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build`);
      return path;
    };
    emu = await startEmulator({
      timeScale: 0.01,
      state: {
        applications: [
          {
            id: APP,
            compartmentId: FLEET,
            displayName: "power-app",
            config: { ALLOWED_COMPARTMENT_IDS: FLEET },
          },
        ],
        functions: [
          { id: START, displayName: "start-compute", bundle: bundle("start-compute"), applicationId: APP },
          { id: STOP, displayName: "stop-compute", bundle: bundle("stop-compute"), applicationId: APP },
        ],
        instances: [
          { id: target("running"), compartmentId: FLEET, lifecycleState: "RUNNING" },
          { id: target("gone"), compartmentId: FLEET, lifecycleState: "TERMINATED" },
        ],
      },
    });
    const key = await emu.admin.generateApiKey();
    stackDir = mkdtempSync(join(tmpdir(), "invoke-stack-"));
    const keyFile = join(stackDir, "key.pem");
    writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(stackDir, "config"), ociConfigProfile(key, keyFile), { mode: 0o600 });
    authArgs = `--config-file ${join(stackDir, "config")} --endpoint ${emu.url} --no-retry`;
  }, 120_000);

  afterAll(async () => {
    await emu?.close();
    if (stackDir) rmSync(stackDir, { recursive: true, force: true });
  });

  /** invoke.sh as a child process (async: the emulator answering it runs in this process). */
  const invoke = (args: string[], env: Record<string, string> = {}) =>
    startScript("invoke.sh", args, {
      env: {
        OCI_BIN: OCI,
        OCI_CLI_AUTH_ARGS: authArgs,
        SUPPRESS_LABEL_WARNING: "True",
        OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING: "True",
        ...env,
      },
    }).done;

  it("stops an instance with STOP_FUNCTION_ID, OCI_CLI_AUTH_ARGS before the command, and prints the answer", async () => {
    const result = await invoke(
      ["stop", JSON.stringify({ instance_id: target("running"), action: "STOP" })],
      {
        STOP_FUNCTION_ID: STOP,
        START_FUNCTION_ID: START,
      },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as {
      ok: boolean;
      action: string;
      results: Array<{ outcome: string }>;
    };
    expect(answer).toMatchObject({ ok: true, action: "STOP" });
    expect(answer.results.map((r) => r.outcome)).toEqual(["changed"]);
    expect((await emu.admin.getInstance(target("running"))).lifecycleState).toBe("STOPPED");
    const invokes = (await emu.admin.calls()).calls.filter((c) => c.operation === "InvokeFunction");
    expect(invokes.map((c) => [c.functionId, c.status])).toEqual([[STOP, 200]]);
  });

  it("exits 4 when the function answers ok: false, 3 when the invoke itself fails", async () => {
    const refused = await invoke([
      "--function-id",
      START,
      "start",
      JSON.stringify({ instance_id: target("gone") }),
    ]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('start-compute answered "ok": false');
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false });

    const missing = await invoke(["--function-id", "ocid1.fnfunc.oc1.iad.aaaaaaaanosuch", "start", "{}"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("NotAuthorizedOrNotFound");
    expect(missing.stderr).toContain("invoking start-compute via oci failed");
  });
});

describe("invoke.sh", () => {
  // The Fn CLI is not in any package registry, so this checks the command invoke.sh builds; the same
  // command ran by hand against `npm start -- --keep` with the real Fn CLI 0.6.63 (docs/operations.md).
  it("uses the Fn CLI with FN_APP, body on standard input", () => {
    const result = runScript("invoke.sh", ["start", BODY], {
      env: { PATH: pathWithFakes(), FN_APP: "power-app" },
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"ok":true}\n');
    expect(readFileSync(join(dir, "fn-args.txt"), "utf8").trimEnd().split("\n")).toEqual([
      "invoke",
      "power-app",
      "start-compute",
      "--content-type",
      "application/json",
    ]);
    expect(readFileSync(join(dir, "fn-stdin.txt"), "utf8")).toBe(BODY);
  });

  it.each([
    [["restart", BODY], {}, "first argument must be start or stop"],
    [["start"], {}, "expected <start|stop> '<json body>'"],
    [["start", "not json"], { FN_APP: "app" }, "the body must be a JSON object"],
    [["start", BODY], {}, "nothing to invoke: set START_FUNCTION_ID (or --function-id)"],
    [["stop", BODY], { STOP_FUNCTION_ID: "ocid1.instance.oc1..x" }, "is not a function OCID"],
    [
      ["stop", BODY],
      { STOP_FUNCTION_ID: STOP_ID, OCI_BIN: "/no/such/oci" },
      "OCI CLI '/no/such/oci' not found",
    ],
    [["stop", BODY], { FN_APP: "app", FN_BIN: "/no/such/fn" }, "Fn CLI '/no/such/fn' not found"],
  ])("exits 2 for %j", (args, env, message) => {
    const result = runScript("invoke.sh", args, { env: { PATH: pathWithFakes(), ...env } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe("deploy.sh", () => {
  function fixtureProject(): string {
    const root = join(dir, "project");
    for (const fn of ["start-compute", "stop-compute"]) {
      mkdirSync(join(root, fn, "dist"), { recursive: true });
      writeFileSync(
        join(root, fn, "func.yaml"),
        `schema_version: 20180708\nname: ${fn}\nversion: 0.0.1\nruntime: docker\n`,
      );
      writeFileSync(join(root, fn, "Dockerfile"), "FROM fnproject/node:20\n");
      writeFileSync(join(root, fn, "dist", "func.js"), "// bundle\n");
    }
    writeFileSync(join(root, "package.json"), '{"name": "fixture", "version": "1.4.2"}\n');
    return root;
  }

  it("deploys both functions at the package.json version without touching func.yaml", () => {
    const root = fixtureProject();
    const result = runScript("deploy.sh", ["--app", "power-app", "--no-build"], {
      env: { PATH: pathWithFakes(), DEPLOY_ROOT: root, DOCKER_BIN: "true" },
    });

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, "fn-deployed.txt"), "utf8")).toBe(
      "start-compute version: 1.4.2\nstop-compute version: 1.4.2\n",
    );
    const args = readFileSync(join(dir, "fn-args.txt"), "utf8").trimEnd().split("\n");
    expect(args.filter((a) => a === "deploy")).toHaveLength(2);
    expect(args).toEqual(expect.arrayContaining(["--app", "power-app", "--no-bump"]));
    expect(readFileSync(join(root, "start-compute", "func.yaml"), "utf8")).toContain("version: 0.0.1");
  });

  it("with --push-only builds and pushes to the context's registry, creating no function", () => {
    const root = fixtureProject();
    const pushed = join(dir, "docker-args.txt");
    const docker = join(binDir, "docker");
    writeFileSync(docker, `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> ${pushed}\n`);
    chmodSync(docker, 0o755);

    const result = runScript("deploy.sh", ["--push-only", "--no-build", "--only", "stop"], {
      env: { PATH: pathWithFakes(), DEPLOY_ROOT: root },
    });

    expect(result.code).toBe(0);
    expect(readFileSync(pushed, "utf8")).toBe("push fra.ocir.io/ns/oci-compute-power/stop-compute:1.4.2\n");
    expect(readFileSync(join(dir, "fn-args.txt"), "utf8")).not.toContain("deploy");
  });

  it("--dry-run prints the commands", () => {
    const root = fixtureProject();
    const result = runScript("deploy.sh", ["--app", "power-app", "--dry-run"], {
      env: { PATH: pathWithFakes(), DEPLOY_ROOT: root },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("+ npm run build");
    expect(result.stdout.match(/\+ fn deploy --app power-app --no-bump/g)).toHaveLength(2);
  });

  it("says so when the Fn CLI is missing", () => {
    const result = runScript("deploy.sh", ["--app", "power-app"], {
      env: { PATH: "/usr/bin:/bin", FN_BIN: "fn-not-installed" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the Fn CLI ('fn-not-installed') is not installed");
  });

  it("without --app deploys for Terraform, which needs terraform's outputs (test/scripts/deploy.test.ts)", () => {
    const result = runScript("deploy.sh", ["--print"], {
      env: { PATH: pathWithFakes(), TERRAFORM_BIN: "terraform-not-installed" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("terraform ('terraform-not-installed') is not installed");
  });

  it("needs the bundles", () => {
    const root = fixtureProject();
    rmSync(join(root, "stop-compute", "dist", "func.js"));
    const result = runScript("deploy.sh", ["--app", "a", "--no-build", "--only", "stop"], {
      env: { PATH: pathWithFakes(), DEPLOY_ROOT: root, DOCKER_BIN: "true" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("stop-compute/dist/func.js not found: run npm run build");
  });
});
