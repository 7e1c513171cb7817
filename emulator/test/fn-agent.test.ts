import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FnProcess, FnStartError, imageNodeArgs } from "../src/fn-agent.js";

const ECHO = "emulator/test/fixtures/fn-agent-echo.cjs";
const started: FnProcess[] = [];

async function start(env: Record<string, string> = {}): Promise<FnProcess> {
  const fn = await FnProcess.start({ bundle: ECHO, env });
  started.push(fn);
  return fn;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((fn) => fn.stop()));
});

describe("FnProcess", () => {
  it("speaks the Fn http-stream contract: body, Fn-Call-Id and Fn-Deadline reach the function", async () => {
    const fn = await start({ WHO: "configured" });
    const deadline = new Date(Date.now() + 30_000);
    const res = await fn.call("hello", { deadline, callId: "call-1" });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      input: "hello",
      callId: "call-1",
      deadline: deadline.toISOString(),
      who: "configured",
    });
  });

  it("keeps the process warm across calls", async () => {
    const fn = await start();
    const deadline = new Date(Date.now() + 30_000);
    const first = await fn.call("a", { deadline });
    const second = await fn.call("b", { deadline });
    expect(JSON.parse(first.body).input).toBe("a");
    expect(JSON.parse(second.body).input).toBe("b");
    expect(fn.alive).toBe(true);
  });

  it("reports a process that dies during a call as an error, and alive turns false", async () => {
    const fn = await start();
    await expect(fn.call("crash", { deadline: new Date(Date.now() + 30_000) })).rejects.toThrow();
    await fn.exited();
    expect(fn.alive).toBe(false);
  });

  it("fails clearly when the bundle is missing", async () => {
    await expect(FnProcess.start({ bundle: "no/such/func.js" })).rejects.toBeInstanceOf(FnStartError);
    await expect(FnProcess.start({ bundle: "no/such/func.js" })).rejects.toThrow(/npm run build/);
  });

  it("fails clearly when the function exits before listening", async () => {
    // Without a module to run, node exits at once: the error carries what it printed.
    await expect(
      FnProcess.start({ bundle: ECHO, nodeArgs: ["--require", "/no/such/preload.cjs"] }),
    ).rejects.toThrow(/exited before listening/);
  });
});

describe("imageNodeArgs: the bundle runs with its image's node flags", () => {
  it("reads both functions' Dockerfile ENTRYPOINT flags (the same for both)", () => {
    const start = imageNodeArgs("start-compute/dist/func.js");
    expect(start).toEqual(["--max-semi-space-size=2"]);
    expect(imageNodeArgs("stop-compute/dist/func.js")).toEqual(start);
  });

  it("no Dockerfile next to the bundle's dist/: no flags", () => {
    expect(imageNodeArgs(ECHO)).toEqual([]);
  });

  it.each([
    ["ENTRYPOINT node /function/func.js"],
    ['ENTRYPOINT ["node", "--x"]'],
    ['ENTRYPOINT ["python", "/function/func.js"]'],
    ['CMD ["node", "/function/func.js"]'],
  ])("refuses a Dockerfile whose ENTRYPOINT is not the exec form: %s", async (line) => {
    const dir = await mkdtemp(join(tmpdir(), "image-args-"));
    try {
      await mkdir(join(dir, "dist"));
      await writeFile(join(dir, "Dockerfile"), `FROM fnproject/node:20\n${line}\n`);
      expect(() => imageNodeArgs(join(dir, "dist/func.js"))).toThrow(FnStartError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
