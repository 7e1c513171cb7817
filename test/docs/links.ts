/** Markdown link and heading extraction for the docs link test (GitHub's rendering rules, enough for our docs). */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

export interface MarkdownLink {
  target: string;
  line: number;
}

export interface BrokenLink {
  from: string;
  link: string;
  why: string;
}

/** Lines outside fenced code blocks, with inline code spans blanked (links there are not links). */
function proseLines(markdown: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let fenced = false;
  markdown.split("\n").forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      return;
    }
    if (!fenced) out.push({ text: raw.replace(/`[^`]*`/g, (m) => " ".repeat(m.length)), line: i + 1 });
  });
  return out;
}

export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { text, line } of proseLines(markdown)) {
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (m[1] !== undefined) links.push({ target: m[1], line });
    }
  }
  return links;
}

/** GitHub's heading anchors: lowercased, punctuation dropped, spaces to hyphens, repeats numbered -1, -2… */
export function headingSlugs(markdown: string): string[] {
  const seen = new Map<string, number>();
  const slugs: string[] = [];
  let fenced = false;
  for (const raw of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(raw)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!m || m[1] === undefined) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.push(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

const external = /^(https?:|mailto:)/i;

export function findBrokenLinks(
  file: string,
  isFile: (path: string) => boolean,
  read: (path: string) => string = (p) => readFileSync(p, "utf8"),
): BrokenLink[] {
  const source = read(file);
  const broken: BrokenLink[] = [];
  for (const { target } of markdownLinks(source)) {
    if (external.test(target)) continue;
    const [pathPart = "", anchor] = target.split("#", 2);
    const path = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    if (pathPart !== "" && !isFile(path)) {
      broken.push({ from: file, link: target, why: "no such file" });
      continue;
    }
    if (anchor === undefined || anchor === "") continue;
    if (!path.endsWith(".md")) continue;
    if (!headingSlugs(read(path)).includes(decodeURIComponent(anchor))) {
      broken.push({ from: file, link: target, why: `no heading with anchor #${anchor}` });
    }
  }
  return broken;
}
