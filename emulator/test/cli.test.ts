import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { EmulatorAdmin } from "../src/admin-client.js";

function startCli(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", "emulator/src/cli.ts", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once("line", (line) => {
      rl.close();
      resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`emulator exited (${code}) before printing its URL`)));
  });
  return { child, exited, firstLine };
}

describe("CLI", () => {
  it("prints one JSON line with the URL, serves the state file, and stops cleanly on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emu-cli-"));
    const stateFile = join(dir, "state.json");
    await writeFile(
      stateFile,
      JSON.stringify({
        timeScale: 0.01,
        instances: [{ id: "ocid1.instance.oc1.iad.aaaacli", displayName: "cli", lifecycleState: "STOPPED" }],
      }),
    );
    const { child, exited, firstLine } = startCli(["--port", "0", "--state", stateFile]);
    const info = JSON.parse(await firstLine) as { url: string };
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const admin = new EmulatorAdmin(info.url);
    expect(await admin.health()).toEqual({ ok: true });
    expect((await admin.getInstance("ocid1.instance.oc1.iad.aaaacli")).lifecycleState).toBe("STOPPED");
    expect((await admin.getTimings()).timeScale).toBe(0.01);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("stops cleanly on SIGINT", async () => {
    const { child, exited, firstLine } = startCli(["--port", "0", "--time-scale", "0.5"]);
    const info = JSON.parse(await firstLine) as { url: string };
    expect((await new EmulatorAdmin(info.url).getTimings()).timeScale).toBe(0.5);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("--regions serves more regions, each under its own prefix", async () => {
    const { child, exited, firstLine } = startCli([
      "--port",
      "0",
      "--regions",
      "us-ashburn-1,us-phoenix-1, eu-frankfurt-1",
    ]);
    const info = JSON.parse(await firstLine) as { url: string; region: string; regions: string[] };
    expect(info.region).toBe("us-ashburn-1");
    expect(info.regions).toEqual(["us-ashburn-1", "us-phoenix-1", "eu-frankfurt-1"]);
    const [made] = await new EmulatorAdmin(info.url).forRegion("eu-frankfurt-1").putInstances([{}]);
    expect(made?.id).toMatch(/^ocid1\.instance\.oc1\.fra\./);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("exits 2 naming an unknown region", async () => {
    const { child, exited, firstLine } = startCli(["--port", "0", "--regions", "xx-nowhere-1"]);
    firstLine.catch(() => undefined);
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await exited).toBe(2);
    expect(stderr).toContain("xx-nowhere-1");
  });

  it("exits 2 with a message on a bad flag", async () => {
    const { exited, firstLine } = startCli(["--port", "nope"]);
    firstLine.catch(() => undefined);
    expect(await exited).toBe(2);
  });
});
