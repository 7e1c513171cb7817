/**
 * The README is the front door and docs/ holds the rest: a moved section or a renamed heading must not
 * leave a dead link behind. Every relative link in README.md and docs/*.md must name a file that exists,
 * and every #anchor a heading (GitHub's slugs) in the file it points at.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { findBrokenLinks, headingSlugs, markdownLinks } from "./links.js";

const root = resolve(import.meta.dirname, "../..");
const docs = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

describe("links in README.md and docs/", () => {
  it.each(docs)("%s: every relative link and anchor resolves", (file) => {
    const broken = findBrokenLinks(join(root, file), (path) => existsSync(path) && statSync(path).isFile());
    expect(broken.map((b) => `${relative(root, b.from)}: ${b.link} (${b.why})`)).toEqual([]);
  });

  it("the README stays a front door (at most 200 lines) and links every docs page", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThanOrEqual(200);
    const linked = new Set(markdownLinks(readme).map((l) => l.target.split("#")[0]));
    const pages = docs.filter((d) => d.startsWith("docs/"));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });
});

describe("the link checker itself", () => {
  it("slugs headings as GitHub does, numbering repeats", () => {
    const md =
      "# A `code` Title!\n## Quick start\n## Quick start\n```\n# not a heading\n```\n### Émulator (local) — 2\n";
    expect(headingSlugs(md)).toEqual(["a-code-title", "quick-start", "quick-start-1", "émulator-local--2"]);
  });

  it("finds links outside code, and none inside fences or inline code", () => {
    const md =
      "see [a](a.md#x) and ![img](p.svg)\n`[no](x.md)`\n```\n[no](y.md)\n```\n[web](https://e.com) [top](#here)\n";
    expect(markdownLinks(md).map((l) => l.target)).toEqual(["a.md#x", "p.svg", "https://e.com", "#here"]);
  });

  it("reports a missing file, a missing anchor and a missing same-page anchor", () => {
    const files: Record<string, string> = {
      "/d/x.md":
        "# X\n[ok](y.md#real)\n[gone](nope.md)\n[bad](y.md#unreal)\n[self](#x)\n[selfbad](#nowhere)\n",
      "/d/y.md": "# Real\n",
    };
    const broken = findBrokenLinks(
      "/d/x.md",
      (p) => p in files,
      (p) => files[p] ?? "",
    );
    expect(broken.map((b) => b.link)).toEqual(["nope.md", "y.md#unreal", "#nowhere"]);
    expect(dirname("/d/x.md")).toBe("/d");
  });
});
