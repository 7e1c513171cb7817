/**
 * scripts/deploy.sh, the middle of the three-command first install (terraform apply, deploy.sh,
 * terraform apply): what --print shows for a first install and for a later release (from canned
 * `terraform output -json` fixtures), and a real run with stand-ins for docker and the Fn CLI (which
 * are the user's and not installed here) recording what they were asked to do.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeTempDirs, repoRoot, runScript, tempDir } from "./helpers.js";

afterEach(removeTempDirs);

const FIXTURES = join(repoRoot, "test/scripts/fixtures");
const FIRST = join(FIXTURES, "terraform-output-first-install.json");
const RELEASE = join(FIXTURES, "terraform-output-release.json");
const REGISTRY = "fra.ocir.io/frns/oci-compute-power";
const TOKEN = "s3cr3t-auth-token;)";

let dir: string;
let root: string;
let binDir: string;

function git(...args: string[]): string {
  const result = spawnSync("git", ["-C", root, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A project like this one (package.json, both function directories with a bundle), committed. */
function fixtureProject(): void {
  for (const fn of ["start-compute", "stop-compute"]) {
    mkdirSync(join(root, fn, "dist"), { recursive: true });
    writeFileSync(
      join(root, fn, "func.yaml"),
      `schema_version: 20180708\nname: ${fn}\nversion: 0.0.1\nruntime: docker\n`,
    );
    writeFileSync(join(root, fn, "Dockerfile"), "FROM fnproject/node:20\n");
    writeFileSync(join(root, fn, "dist", "func.js"), "// bundle\n");
  }
  mkdirSync(join(root, "terraform"));
  writeFileSync(join(root, "package.json"), '{"name": "fixture", "version": "1.4.2"}\n');
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "fixture");
}

/**
 * Stand-ins for fn and docker. fn: contexts and the current one kept in files (created by `create
 * context`). docker: `manifest inspect` finds what was pushed; `login` records its standard input.
 */
function writeFakes(): void {
  const fn = join(binDir, "fn");
  // As the real Fn CLI 0.6.63 does: `inspect context NAME` fails for a missing context, `inspect
  // context` names the current one, `use context` fails for a missing or the current context.
  const contexts = join(dir, "contexts.txt");
  const current = join(dir, "current-context.txt");
  writeFileSync(
    fn,
    `#!/usr/bin/env bash
printf 'fn %s\\n' "$*" >> "${join(dir, "calls.txt")}"
if [ "$1 $2" = "inspect context" ]; then
  if [ -n "\${3:-}" ]; then grep -qx "$3" "${contexts}" 2>/dev/null || exit 1; fi
  printf 'Current context: %s\\n' "$(cat "${current}" 2>/dev/null)"
fi
if [ "$1 $2" = "use context" ]; then
  grep -qx "$3" "${contexts}" 2>/dev/null || exit 1
  [ "$(cat "${current}" 2>/dev/null)" != "$3" ] || exit 1
  echo "$3" > "${current}"
fi
if [ "$1 $2" = "create context" ]; then echo "$3" >> "${contexts}"; fi
exit 0
`,
  );
  const docker = join(binDir, "docker");
  writeFileSync(
    docker,
    `#!/usr/bin/env bash
printf 'docker %s\\n' "$*" >> "${join(dir, "calls.txt")}"
case "$1" in
  login) cat > "${join(dir, "login-stdin.txt")}" ;;
  manifest) grep -qx "$3" "${join(dir, "pushed.txt")}" 2>/dev/null || exit 1 ;;
  build) [ -f "$4/dist/func.js" ] && grep -q "^version: \${3##*:}$" "$4/func.yaml" || { echo "bad context $4" >&2; exit 1; } ;;
  push) echo "$2" >> "${join(dir, "pushed.txt")}" ;;
esac
exit 0
`,
  );
  // What `terraform output -json` prints before the first apply.
  const terraform = join(binDir, "terraform");
  writeFileSync(
    terraform,
    `#!/usr/bin/env bash\nprintf 'terraform %s\\n' "$*" >> "${join(dir, "calls.txt")}"\necho '{}'\n`,
  );
  chmodSync(fn, 0o755);
  chmodSync(docker, 0o755);
  chmodSync(terraform, 0o755);
}

beforeEach(() => {
  dir = tempDir("deploy");
  root = join(dir, "project");
  binDir = join(dir, "bin");
  mkdirSync(root);
  mkdirSync(binDir);
  fixtureProject();
  writeFakes();
});

function deploy(args: string[], env: Record<string, string | undefined> = {}) {
  return runScript("deploy.sh", args, {
    env: { PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, DEPLOY_ROOT: root, ...env },
  });
}

function calls(): string[] {
  return existsSync(join(dir, "calls.txt"))
    ? readFileSync(join(dir, "calls.txt"), "utf8").trimEnd().split("\n")
    : [];
}

const contextCommands = [
  "# only when the Fn context oci-compute-power does not exist yet (fn inspect context oci-compute-power fails):",
  "+ fn create context oci-compute-power --provider oracle",
  "# only when oci-compute-power is not the current context:",
  "+ fn use context oci-compute-power",
  "+ fn update context oracle.compartment-id ocid1.compartment.oc1..aaaaaaaaapp",
  "+ fn update context api-url https://functions.eu-frankfurt-1.oci.oraclecloud.com",
  `+ fn update context registry ${REGISTRY}`,
  "+ fn update context oracle.profile DEFAULT",
  "# the password is the auth token, from OCIR_AUTH_TOKEN or prompted for; never printed",
];

function pushCommands(fn: string, tag: string): string[] {
  const image = `${REGISTRY}/${fn}:${tag}`;
  return [
    `# ${fn}: skipped when ${image} is already in the registry (docker manifest inspect ${image})`,
    `# ${fn}: staging <tmp>/${fn}: func.yaml (version ${tag}), Dockerfile, dist/`,
    `+ docker build --tag ${image} <tmp>/${fn}`,
    `+ docker push ${image}`,
  ];
}

function tfvarsLines(start: string, stop: string): string[] {
  return [
    "# write terraform/images.auto.tfvars.json:",
    "#   {",
    `#     "start_function_image": "${REGISTRY}/start-compute:${start}",`,
    `#     "stop_function_image": "${REGISTRY}/stop-compute:${stop}"`,
    "#   }",
  ];
}

describe("deploy.sh --print", () => {
  it("shows every command of a first install, tagged <version>-<git short sha>, and runs none", () => {
    const tag = `1.4.2-${git("rev-parse", "--short=7", "HEAD")}`;
    const result = deploy(["--print", "--outputs", FIRST]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toEqual([
      `# first install: compute-power-app in eu-frankfurt-1 has no functions yet; pushing start-compute stop-compute as ${tag}`,
      ...contextCommands,
      "+ docker login --username frns/<your user name> --password-stdin fra.ocir.io",
      "+ npm run build",
      ...pushCommands("start-compute", tag),
      ...pushCommands("stop-compute", tag),
      ...tfvarsLines(tag, tag),
      "# next: terraform apply (in terraform/) creates the functions, the management instance and their IAM",
    ]);
    expect(calls()).toEqual([]);
    expect(existsSync(join(root, "terraform", "images.auto.tfvars.json"))).toBe(false);
  });

  it("shows a later release: the new tag, the current images replaced, applied in place", () => {
    const result = deploy(["--print", "--outputs", RELEASE, "--tag", "0.2.0-def5678", "--no-build"], {
      OCIR_USERNAME: "jdoe@example.com",
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toEqual([
      "# release: start-compute 0.1.0-abc1234 -> 0.2.0-def5678",
      "# release: stop-compute 0.1.0-abc1234 -> 0.2.0-def5678",
      ...contextCommands,
      "+ docker login --username frns/jdoe@example.com --password-stdin fra.ocir.io",
      ...pushCommands("start-compute", "0.2.0-def5678"),
      ...pushCommands("stop-compute", "0.2.0-def5678"),
      ...tfvarsLines("0.2.0-def5678", "0.2.0-def5678"),
      "# next: terraform apply (in terraform/) moves the functions to 0.2.0-def5678 in place",
    ]);
    expect(calls()).toEqual([]);
  });

  it("with --only keeps the other function's current image", () => {
    const result = deploy([
      "--print",
      "--outputs",
      RELEASE,
      "--tag",
      "0.2.1-aaa1111",
      "--only",
      "stop",
      "--no-login",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("# docker login skipped (--no-login)");
    expect(result.stdout).not.toContain("start-compute: skipped");
    expect(result.stdout).toContain(tfvarsLines("0.1.0-abc1234", "0.2.1-aaa1111").join("\n"));
  });
});

describe("deploy.sh with docker and the Fn CLI (stand-ins)", () => {
  it("creates its Fn context, logs in with the token on stdin, pushes both images and writes the tfvars; a re-run repeats nothing", () => {
    const env = { OCIR_USERNAME: "jdoe@example.com", OCIR_AUTH_TOKEN: TOKEN };
    const tag = `1.4.2-${git("rev-parse", "--short=7", "HEAD")}`;
    const first = deploy(["--outputs", FIRST, "--no-build"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const image = (fn: string) => `${REGISTRY}/${fn}:${tag}`;
    expect(calls()).toEqual([
      "fn inspect context oci-compute-power",
      "fn create context oci-compute-power --provider oracle",
      "fn inspect context",
      "fn use context oci-compute-power",
      "fn update context oracle.compartment-id ocid1.compartment.oc1..aaaaaaaaapp",
      "fn update context api-url https://functions.eu-frankfurt-1.oci.oraclecloud.com",
      `fn update context registry ${REGISTRY}`,
      "fn update context oracle.profile DEFAULT",
      "docker login --username frns/jdoe@example.com --password-stdin fra.ocir.io",
      `docker manifest inspect ${image("start-compute")}`,
      expect.stringMatching(new RegExp(`^docker build --tag ${image("start-compute")} \\S+/start-compute$`)),
      `docker push ${image("start-compute")}`,
      `docker manifest inspect ${image("stop-compute")}`,
      expect.stringMatching(new RegExp(`^docker build --tag ${image("stop-compute")} \\S+/stop-compute$`)),
      `docker push ${image("stop-compute")}`,
    ]);
    expect(readFileSync(join(dir, "login-stdin.txt"), "utf8")).toBe(TOKEN);
    const tfvars = join(root, "terraform", "images.auto.tfvars.json");
    expect(JSON.parse(readFileSync(tfvars, "utf8"))).toEqual({
      start_function_image: image("start-compute"),
      stop_function_image: image("stop-compute"),
    });
    // The working tree's func.yaml keeps its version: the tag goes into a staged copy.
    expect(readFileSync(join(root, "start-compute", "func.yaml"), "utf8")).toContain("version: 0.0.1");

    writeFileSync(join(dir, "calls.txt"), "");
    const again = deploy(["--outputs", FIRST, "--no-build"], env);
    expect(again.code).toBe(0);
    expect(calls().filter((c) => /(create|use) context|docker (build|push)/.test(c))).toEqual([]);
    expect(again.stdout).toContain(`${image("stop-compute")} is already in the registry: not rebuilt`);
    expect(JSON.parse(readFileSync(tfvars, "utf8")).stop_function_image).toBe(image("stop-compute"));
    for (const out of [
      first.stdout,
      first.stderr,
      again.stdout,
      readFileSync(join(dir, "calls.txt"), "utf8"),
    ])
      expect(out).not.toContain(TOKEN);
  });

  it("reads the outputs with terraform output -json in terraform/ when no --outputs is given", () => {
    const result = deploy(["--print"]);
    expect(result.code).toBe(2);
    expect(calls()).toEqual([`terraform -chdir=${join(root, "terraform")} output -json`]);
  });

  it("prints the tfvars with --print-tfvars instead of writing them", () => {
    const result = deploy([
      "--outputs",
      RELEASE,
      "--no-build",
      "--no-login",
      "--tag",
      "0.3.0-bbb2222",
      "--print-tfvars",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`"start_function_image": "${REGISTRY}/start-compute:0.3.0-bbb2222"`);
    expect(existsSync(join(root, "terraform", "images.auto.tfvars.json"))).toBe(false);
  });

  it("refuses uncommitted function sources unless --allow-dirty, which gives a tag never reused", () => {
    writeFileSync(join(root, "stop-compute", "Dockerfile"), "FROM fnproject/node:20\n# edited\n");
    const refused = deploy(["--print", "--outputs", FIRST]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("the function sources have uncommitted changes");
    expect(refused.stderr).toContain("stop-compute/Dockerfile");
    const allowed = deploy(["--print", "--outputs", FIRST, "--allow-dirty"]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(
      /pushing start-compute stop-compute as 1\.4\.2-[0-9a-f]{7}-dirty-\d{14}\n/,
    );
  });

  it.each<[string, string[], Record<string, string>, string]>([
    [
      "docker is missing",
      ["--outputs", FIRST],
      { DOCKER_BIN: "docker-not-installed" },
      "docker ('docker-not-installed') is not installed",
    ],
    [
      "the Fn CLI is missing",
      ["--outputs", FIRST],
      { FN_BIN: "fn-not-installed" },
      "the Fn CLI ('fn-not-installed') is not installed",
    ],
    [
      "the first apply has not run",
      ["--print"],
      {},
      'terraform output has no "deploy" output: run terraform apply',
    ],
    [
      "--only on a first install",
      ["--print", "--outputs", FIRST, "--only", "start"],
      {},
      "--only: stop-compute has no image yet",
    ],
    ["a bad tag", ["--print", "--outputs", FIRST, "--tag", "a b"], {}, "--tag must be 1-128 letters"],
    [
      "no token and no terminal",
      ["--outputs", FIRST, "--no-build"],
      { OCIR_USERNAME: "jdoe" },
      "set OCIR_USERNAME and OCIR_AUTH_TOKEN",
    ],
  ])("exits 2 when %s, saying what to do", (_label, args, env, message) => {
    const result = deploy(args, { OCIR_AUTH_TOKEN: undefined, ...env });
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });
});
