import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, scriptsDir, shellcheckBin } from "./helpers.js";

const shellScripts = readdirSync(scriptsDir)
  .filter((name) => name.endsWith(".sh"))
  .sort();

describe("shellcheck", () => {
  it("is installed in .tools (scripts/setup-tools.sh shellcheck)", () => {
    expect(existsSync(shellcheckBin), `missing ${shellcheckBin}: run bash scripts/setup-tools.sh`).toBe(true);
  });

  it("finds the project's scripts", () => {
    expect(shellScripts).toEqual(
      expect.arrayContaining([
        "check-terraform.sh",
        "crontab.sh",
        "deploy.sh",
        "invoke.sh",
        "override.sh",
        "schedule.sh",
        "setup-tools.sh",
      ]),
    );
  });

  it.each(shellScripts)("passes on scripts/%s", (name) => {
    const result = spawnSync(shellcheckBin, ["--shell=bash", "--external-sources", join("scripts", name)], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
