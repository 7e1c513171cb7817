/**
 * Hostile input through the built bundles over the Fn socket: a corpus of malformed and hostile
 * bodies, each answered with a structured InvalidParameter, no OCI call, the process alive, every
 * answer before the deadline, and bounded memory afterwards.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PowerResponse } from "../../src/response.js";
import { useWorld } from "../helpers/world.js";
import { hostileCorpus } from "./hostile-corpus.js";

/** A 128 MB function has to live with this; 200 MB leaves room for V8's uncapped heap here. */
const RSS_LIMIT_MB = 200;

const world = useWorld({ timeScale: 0.01 });

function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

describe("hostile input through the Fn socket", () => {
  const corpus = hostileCorpus();

  it(`the corpus has at least 50 distinct bodies (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  it.each([
    ["start-compute", () => world.start],
    ["stop-compute", () => world.stop],
  ] as const)(
    "%s: every body gets a structured InvalidParameter, no OCI call, alive, bounded",
    async (_name, pick) => {
      const fn = pick();
      const { next } = await world.emu.admin.calls();
      const deadline = new Date(Date.now() + 60_000);
      const wrong: string[] = [];
      let lastAnswerAt = 0;
      for (const c of corpus) {
        const raw = await fn.call(c.body, { deadline });
        lastAnswerAt = Date.now();
        let body: PowerResponse | undefined;
        try {
          body = JSON.parse(raw.body) as PowerResponse;
        } catch {
          wrong.push(`${c.name}: body is not JSON: ${raw.body.slice(0, 80)}`);
          continue;
        }
        const e = body.error;
        if (
          raw.status !== 200 ||
          raw.headers["fn-http-status"] !== "400" ||
          body.ok !== false ||
          e?.code !== "InvalidParameter" ||
          typeof e.message !== "string" ||
          e.message.length === 0 ||
          e.message.length > 2000 ||
          body.results !== undefined
        ) {
          wrong.push(`${c.name}: ${raw.status} ${raw.headers["fn-http-status"]} ${raw.body.slice(0, 160)}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(lastAnswerAt).toBeLessThanOrEqual(deadline.getTime());
      expect((await world.emu.admin.calls(next)).calls).toEqual([]);
      expect(fn.alive).toBe(true);
      const rss = rssMb(fn.pid);
      expect(rss, "RSS (MB) after the corpus").toBeLessThan(RSS_LIMIT_MB);
    },
  );

  it("the whole corpus at once, concurrently: every answer structured, before the deadline, no OCI call", async () => {
    const { next } = await world.emu.admin.calls();
    const deadline = new Date(Date.now() + 60_000);
    const answers = await Promise.all(
      corpus.map(async (c) => {
        const raw = await world.start.call(c.body, { deadline });
        return { name: c.name, at: Date.now(), raw };
      }),
    );
    const wrong = answers
      .filter(({ raw }) => !/"code":"InvalidParameter"/.test(raw.body) || raw.status !== 200)
      .map(({ name, raw }) => `${name}: ${raw.status} ${raw.body.slice(0, 120)}`);
    expect(wrong).toEqual([]);
    expect(answers.filter((a) => a.at > deadline.getTime()).map((a) => a.name)).toEqual([]);
    expect((await world.emu.admin.calls(next)).calls).toEqual([]);
    expect(world.start.alive).toBe(true);
    const rss = rssMb(world.start.pid);
    expect(rss, "RSS (MB) after the concurrent corpus").toBeLessThan(RSS_LIMIT_MB);
  });
});
