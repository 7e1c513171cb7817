/** The batch chart, drawn by hand as SVG: wall time against instance count, log-log. */

export interface ChartInput {
  title: string;
  subtitle: string;
  /** Measured function batches: instance count → wall seconds. */
  measured: Array<{ count: number; seconds: number }>;
  /** Lower bound: count → seconds (instances ÷ rate + transition). */
  lowerBound: (count: number) => number;
  /** Seed-style loop, extrapolated: count → seconds. */
  seedLoop: ((count: number) => number) | null;
  seedLabel: string;
  deadlineSeconds: number;
}

const W = 760;
const H = 460;
const M = { left: 72, right: 56, top: 56, bottom: 56 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function fmt(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

export function batchChartSvg(input: ChartInput): string {
  const counts = input.measured.map((m) => m.count);
  const xMin = Math.min(...counts);
  const xMax = Math.max(...counts);
  const ys: number[] = [input.deadlineSeconds, ...input.measured.map((m) => m.seconds)];
  ys.push(input.lowerBound(xMin), input.lowerBound(xMax));
  if (input.seedLoop) ys.push(input.seedLoop(xMin), input.seedLoop(xMax));
  const lx0 = Math.floor(Math.log10(xMin));
  const lx1 = Math.max(Math.ceil(Math.log10(xMax)), lx0 + 1);
  const ly0 = Math.floor(Math.log10(Math.min(...ys.filter((y) => y > 0))));
  const ly1 = Math.max(Math.ceil(Math.log10(Math.max(...ys))), ly0 + 1);
  const x = (c: number): number => M.left + ((Math.log10(c) - lx0) / (lx1 - lx0)) * PW;
  const y = (s: number): number => M.top + PH - ((Math.log10(s) - ly0) / (ly1 - ly0)) * PH;
  const px = (n: number): string => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(input.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(input.title)}</text>`,
    `<text x="${M.left}" y="40" fill="#555">${esc(input.subtitle)}</text>`,
  );
  // Grid and ticks: decades, plus 2× and 5× minor lines.
  for (let d = lx0; d <= lx1; d++) {
    for (const m of [1, 2, 5]) {
      const c = m * 10 ** d;
      if (c < 10 ** lx0 || c > 10 ** lx1) continue;
      const gx = px(x(c));
      out.push(
        `<line x1="${gx}" y1="${M.top}" x2="${gx}" y2="${M.top + PH}" stroke="${m === 1 ? "#ccc" : "#eee"}"/>`,
      );
      if (m === 1) out.push(`<text x="${gx}" y="${M.top + PH + 18}" text-anchor="middle">${fmt(c)}</text>`);
    }
  }
  for (let d = ly0; d <= ly1; d++) {
    for (const m of [1, 2, 5]) {
      const s = m * 10 ** d;
      if (s < 10 ** ly0 || s > 10 ** ly1) continue;
      const gy = px(y(s));
      out.push(
        `<line x1="${M.left}" y1="${gy}" x2="${M.left + PW}" y2="${gy}" stroke="${m === 1 ? "#ccc" : "#eee"}"/>`,
      );
      if (m === 1) out.push(`<text x="${M.left - 8}" y="${gy}" dy="4" text-anchor="end">${fmt(s)}</text>`);
    }
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle">instances in one invocation (log scale)</text>`,
    `<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">wall time, seconds (log scale)</text>`,
  );

  const curve = (f: (c: number) => number): string => {
    const pts: string[] = [];
    for (let i = 0; i <= 60; i++) {
      const c = 10 ** (lx0 + ((lx1 - lx0) * i) / 60);
      const v = f(c);
      if (v > 0) pts.push(`${px(x(c))},${px(y(v))}`);
    }
    return pts.join(" ");
  };
  const dl = px(y(input.deadlineSeconds));
  out.push(
    `<line x1="${M.left}" y1="${dl}" x2="${M.left + PW}" y2="${dl}" stroke="#c62828" stroke-width="1.5" stroke-dasharray="2 3"/>`,
    `<polyline points="${curve(input.lowerBound)}" fill="none" stroke="#555" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<polyline points="${curve((c) => 1.2 * input.lowerBound(c))}" fill="none" stroke="#999" stroke-width="1" stroke-dasharray="2 3"/>`,
  );
  if (input.seedLoop) {
    out.push(
      `<polyline points="${curve(input.seedLoop)}" fill="none" stroke="#ef6c00" stroke-width="2" stroke-dasharray="8 4"/>`,
    );
  }
  const sorted = [...input.measured].sort((a, b) => a.count - b.count);
  out.push(
    `<polyline points="${sorted.map((m) => `${px(x(m.count))},${px(y(m.seconds))}`).join(" ")}" fill="none" stroke="#1565c0" stroke-width="2"/>`,
  );
  for (const m of sorted) {
    out.push(
      `<circle cx="${px(x(m.count))}" cy="${px(y(m.seconds))}" r="4" fill="#1565c0"/>`,
      `<text x="${px(x(m.count) + 7)}" y="${px(y(m.seconds) + 14)}" fill="#1565c0">${m.seconds.toFixed(1)} s</text>`,
    );
  }
  const legend: Array<[string, string, string]> = [
    ["#1565c0", "", "start-compute, one invocation (measured)"],
    ["#555", "6 4", "lower bound: instances ÷ rate + transition"],
    ["#999", "2 3", "1.2 × lower bound (target)"],
    ["#c62828", "2 3", `${input.deadlineSeconds} s synchronous deadline`],
  ];
  if (input.seedLoop) legend.push(["#ef6c00", "8 4", input.seedLabel]);
  out.push(
    `<rect x="${M.left + 4}" y="${M.top + 4}" width="400" height="${legend.length * 17 + 8}" fill="#ffffff" fill-opacity="0.85"/>`,
  );
  legend.forEach(([color, dash, label], i) => {
    const ly = M.top + 16 + i * 17;
    out.push(
      `<line x1="${M.left + 10}" y1="${ly - 4}" x2="${M.left + 38}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
      `<text x="${M.left + 44}" y="${ly}">${esc(label)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
