import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeTempDirs, runScript, tempDir, writeFakeOci } from "./helpers.js";

afterEach(removeTempDirs);

const START_ID = "ocid1.fnfunc.oc1.phx.aaaaaaaastart";
const STOP_ID = "ocid1.fnfunc.oc1.phx.aaaaaaaastop";
const BODY = '{"instance_id": "ocid1.instance.oc1.phx.aaaa"}';

let dir: string;
let binDir: string;
let argsFile: string;

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
  argsFile = join(dir, "oci-args.txt");
  writeFakeOci(binDir);
  writeFakeFn();
});

function pathWithFakes(): string {
  return `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
}

describe("invoke.sh", () => {
  it("uses the OCI CLI with STOP_FUNCTION_ID and prints the response", () => {
    const result = runScript("invoke.sh", ["stop", BODY], {
      env: {
        PATH: pathWithFakes(),
        STOP_FUNCTION_ID: STOP_ID,
        START_FUNCTION_ID: START_ID,
        FAKE_OCI_ARGS_FILE: argsFile,
        FAKE_OCI_RESPONSE: '{"ok":true,"message":"stopped"}',
      },
    });

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"ok":true,"message":"stopped"}\n');
    expect(readFileSync(argsFile, "utf8").trimEnd().split("\n")).toEqual([
      "fn",
      "function",
      "invoke",
      "--function-id",
      STOP_ID,
      "--file",
      "-",
      "--body",
      BODY,
    ]);
  });

  it("passes OCI_CLI_AUTH_ARGS before the command", () => {
    const result = runScript("invoke.sh", ["--function-id", START_ID, "start", BODY], {
      env: {
        PATH: pathWithFakes(),
        FAKE_OCI_ARGS_FILE: argsFile,
        FAKE_OCI_RESPONSE: "{}",
        OCI_CLI_AUTH_ARGS: "--profile prod",
      },
    });
    expect(result.code).toBe(0);
    expect(readFileSync(argsFile, "utf8").split("\n").slice(0, 3)).toEqual(["--profile", "prod", "fn"]);
  });

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

  it("exits 4 when the function answers ok: false, 3 when the invoke fails", () => {
    const env = { PATH: pathWithFakes(), STOP_FUNCTION_ID: STOP_ID };
    const failed = runScript("invoke.sh", ["stop", BODY], {
      env: { ...env, FAKE_OCI_RESPONSE: '{"ok":false}' },
    });
    expect(failed.code).toBe(4);
    expect(failed.stderr).toContain('stop-compute answered "ok": false');

    const broken = runScript("invoke.sh", ["stop", BODY], { env: { ...env, FAKE_OCI_EXIT: "1" } });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain("invoking stop-compute via oci failed");
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

  it("needs an application", () => {
    const result = runScript("deploy.sh", [], { env: { PATH: pathWithFakes() } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no application: pass --app <name> or set FN_APP");
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
