/** Plain-text (and Markdown) rendering of benchmark rows. */
import { fmtCpu } from "./cpu.js";
import { comparedSide, type Row, type Side } from "./report.js";

export function fmtOps(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "";
  return Math.round(n).toLocaleString("en-US");
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "";
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(3)} ms`;
}

export function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? "" : `${r.toFixed(2)}×`;
}

function ratioCell(row: Row, side: Side): string {
  if (side.baseline || side !== comparedSide(row.sides) || !row.ratio) return "";
  const parts: string[] = [];
  if (row.ratio.ops !== undefined) parts.push(`ops ${fmtRatio(row.ratio.ops)}`);
  if (row.ratio.p50 !== undefined) parts.push(`p50 ${fmtRatio(row.ratio.p50)}`);
  if (row.ratio.bytes !== undefined) parts.push(`bytes ${fmtRatio(row.ratio.bytes)}`);
  if (row.ratio.overhead !== undefined) parts.push(`overhead ${(row.ratio.overhead * 100).toFixed(2)}%`);
  if (row.ratio.cpu !== undefined) parts.push(`CPU ${fmtRatio(row.ratio.cpu)}`);
  if (row.ratio.cpuPerOp !== undefined) parts.push(`CPU/op ${fmtRatio(row.ratio.cpuPerOp)}`);
  return parts.join(" · ");
}

function otherCell(side: Side): string {
  const parts: string[] = [];

  if (side.bytesPerActor !== undefined) parts.push(`${Math.round(side.bytesPerActor)} B/actor`);
  if (side.nsPerOp !== undefined) {
    parts.push(
      side.nsPerOp >= 1000
        ? `${(side.nsPerOp / 1000).toFixed(1)} µs/call`
        : `${side.nsPerOp.toFixed(1)} ns/call`,
    );
  }
  if (side.note) parts.push(side.note);
  return parts.join(", ");
}

function targetCells(row: Row, side: Side): [string, string] {
  if (side.baseline || side !== comparedSide(row.sides) || !row.target) return ["", ""];
  const t = row.target;
  const shown =
    t.metric === "bytesPerActor"
      ? `${Math.round(t.value)} B`
      : t.metric === "p50Ms"
        ? fmtMs(t.value)
        : t.metric === "overheadPct"
          ? `${t.value.toFixed(2)}%`
          : t.metric === "kvWritesPerSec"
            ? `${t.value.toFixed(2)}/s`
            : fmtRatio(t.value);
  return [`${t.text} (is ${shown})`, t.pass ? "✓" : "✗"];
}

const HEADERS = [
  "row",
  "side",
  "ops/s",
  "p50",
  "p99",
  "CPU µs/op (client + server + nats)",
  "Troupe/raw",
  "target",
  "✓/✗",
  "detail",
];
const RIGHT = new Set([2, 3, 4, 5]);

/** Cells of the table, one array per line (a row spans one line per side). */
export function tableCells(rows: Row[]): string[][] {
  const lines: string[][] = [];
  for (const row of rows) {
    if (row.error) {
      lines.push([row.title, "ERROR", "", "", "", "", "", "", "✗", row.error.split("\n")[0] ?? ""]);
      continue;
    }
    row.sides.forEach((side, i) => {
      const [target, ok] = targetCells(row, side);
      lines.push([
        i === 0 ? row.title : "",
        side.label,
        fmtOps(side.opsPerSec),
        fmtMs(side.p50Ms),
        fmtMs(side.p99Ms),
        fmtCpu(side.cpuUsPerOp),
        ratioCell(row, side),
        target,
        ok,
        otherCell(side),
      ]);
    });
  }
  return lines;
}

/** Fixed-width text table for the terminal. */
export function renderText(rows: Row[]): string {
  const lines = [HEADERS, ...tableCells(rows)];
  const widths = HEADERS.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? "").length)));
  const fmt = (l: string[]) =>
    l
      .map((cell, c) => (RIGHT.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  const out = [fmt(lines[0] as string[]), widths.map((w) => "-".repeat(w)).join("  ")];
  let first = true;
  for (const l of lines.slice(1)) {
    if (l[0] !== "" && !first) out.push("");
    first = false;
    out.push(fmt(l));
  }
  return out.join("\n");
}

/** The same table as GitHub Markdown (for docs/benchmarks.md). */
export function renderMarkdown(rows: Row[]): string {
  const lines = tableCells(rows);
  const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("<", "&lt;");
  const out = [
    `| ${HEADERS.join(" | ")} |`,
    `|${HEADERS.map((_, c) => (RIGHT.has(c) ? "---:" : "---")).join("|")}|`,
  ];
  for (const l of lines) out.push(`| ${l.map(esc).join(" | ")} |`);
  return out.join("\n");
}
