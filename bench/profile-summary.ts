/**
 * Summarises V8 `.cpuprofile` files (from `npm run bench -- --profile DIR`): where the busy
 * (non-idle) samples went, by function (self time), by area (Troupe runtime file, nats.js,
 * msgpackr, Node internals, GC) and, for Troupe's own functions, inclusive time.
 *
 *   node --import tsx bench/profile-summary.ts DIR/rr-host.cpuprofile [more...] [--top 30]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Buckets a script URL into a readable area. */
export function areaOf(url: string, fn: string): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(program)") return "(program: native/unattributed)";
  if (url === "") return `(native) ${fn || "anonymous"}`;
  const m = url.match(/\/runtime\/(.+?)(\?.*)?$/);
  if (m && !url.includes("node_modules")) return `troupe runtime/${m[1]}`;
  if (url.includes("/bench/")) return "bench harness";
  const pkg = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1] as string;
  if (url.startsWith("node:")) return url;
  return url;
}

function keyOf(f: CallFrame): string {
  const file = f.url ? `${path.basename(f.url.replace(/\?.*$/, ""))}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"} ${file}`.trim();
}

export function summarise(p: CpuProfile, top: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Time per sample: the delta to the next sample (V8's convention), so idle gaps are attributed.
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  let idle = 0;
  let busy = 0;
  const fnSelf = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    if (n.callFrame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    busy += us;
    const k = keyOf(n.callFrame);
    fnSelf.set(k, (fnSelf.get(k) ?? 0) + us);
    const a = areaOf(n.callFrame.url, n.callFrame.functionName);
    areaSelf.set(a, (areaSelf.get(a) ?? 0) + us);
    // Inclusive time for Troupe runtime functions: walk up, counting each function once per sample.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = (byId.get(cur) as ProfileNode).callFrame;
      if (!cf.url.includes("/runtime/") || cf.url.includes("node_modules")) continue;
      const ck = keyOf(cf);
      if (seen.has(ck)) continue;
      seen.add(ck);
      incl.set(ck, (incl.get(ck) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`)
      .join("\n");
  const wall = (p.endTime - p.startTime) / 1e6;
  return [
    `wall ${wall.toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / (busy + idle)).toFixed(0)}% of samples), idle ${(idle / 1e6).toFixed(1)} s`,
    `\nby area (self time, % of busy):\n${list(areaSelf, 20)}`,
    `\ntop functions (self time):\n${list(fnSelf, top)}`,
    `\nTroupe runtime functions (inclusive time):\n${list(incl, top)}`,
  ].join("\n");
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { top: { type: "string", default: "30" } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    console.error("usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile... [--top N]");
    process.exit(2);
  }
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    console.log(`\n=== ${file}\n${summarise(profile, Number(values.top))}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main();
}
