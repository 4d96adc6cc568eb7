/**
 * Prints a `--json` result file as the Markdown table docs/benchmarks.md shows.
 *
 *   node --import tsx bench/to-markdown.ts results.json
 */
import { readFileSync } from "node:fs";
import type { BenchReport } from "./lib/report.js";
import { renderMarkdown } from "./lib/table.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node --import tsx bench/to-markdown.ts RESULTS.json");
  process.exit(2);
}
const r = JSON.parse(readFileSync(file, "utf8")) as BenchReport;
const m = r.machine;
console.log(
  `${r.mode} mode, ${r.date.slice(0, 10)}: ${m.cpus} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, Linux ${m.kernel}; ` +
    `Node ${r.node}, nats-server ${r.natsServer}, nats.js ${r.natsJs}; runtime at ${r.source.commit}` +
    `${r.source.runtimeChanges > 0 ? ` + ${r.source.runtimeChanges} uncommitted runtime files` : ""} (${r.runtimeBuild}); ` +
    `payload ${r.payloadBytes} B; ${r.settings.rounds} rounds × (${r.settings.warmupMs} ms warm-up + ${r.settings.durationMs} ms) per side.\n`,
);
console.log(renderMarkdown(r.rows));
