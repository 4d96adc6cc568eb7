/**
 * Summarises V8 `.cpuprofile` files (from `npm run bench -- --profile DIR`): where the busy
 * (non-idle) samples went, by function (self time), by area (Troupe runtime file, nats.js,
 * msgpackr, Node internals, GC) and, for Troupe's own functions, inclusive time.
 *
 *   node --import tsx bench/profile-summary.ts DIR/rr-host.cpuprofile [more...] [--top 30]
 *   node --import tsx bench/profile-summary.ts --diff DIR/callerAls-2.cpuprofile DIR/callerRatio1-2.cpuprofile
 *
 * Profiles of `--profile-window` have an `.ops.json` beside them (the window's operation count):
 * the summary then shows µs per operation, and `--diff` compares two sides per operation.
 */
import { existsSync, readFileSync } from "node:fs";
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

interface Tally {
  busy: number;
  idle: number;
  fnSelf: Map<string, number>;
  areaSelf: Map<string, number>;
  incl: Map<string, number>;
}

/** Busy, idle and per-function / per-area self time (µs) and Troupe functions' inclusive time. */
function tally(p: CpuProfile): Tally {
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
  return { busy, idle, fnSelf, areaSelf, incl };
}

/**
 * `ops`: operations the profiled window completed (the `.ops.json` that `--profile-window` writes
 * beside each profile); with it every line also shows µs per operation.
 */
export function summarise(p: CpuProfile, top: number, ops?: number): string {
  const { busy, idle, fnSelf, areaSelf, incl } = tally(p);
  const perOp = (us: number) => (ops ? `  ${(us / ops).toFixed(2).padStart(6)} µs/op` : "");
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%${perOp(us)}`;
  const list = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`)
      .join("\n");
  const wall = (p.endTime - p.startTime) / 1e6;
  return [
    `wall ${wall.toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / (busy + idle)).toFixed(0)}% of samples), idle ${(idle / 1e6).toFixed(1)} s${ops ? `; ${ops} operations, busy ${(busy / ops).toFixed(1)} µs/op` : ""}`,
    `\nby area (self time, % of busy):\n${list(areaSelf, 20)}`,
    `\ntop functions (self time):\n${list(fnSelf, top)}`,
    `\nTroupe runtime functions (inclusive time):\n${list(incl, top)}`,
  ].join("\n");
}

/**
 * Where side B spends more per operation than side A (`--diff`): self time per operation by area
 * and by function, B − A, largest first. Both profiles need their `.ops.json`.
 */
export function diff(a: CpuProfile, opsA: number, b: CpuProfile, opsB: number, top: number): string {
  const ta = tally(a);
  const tb = tally(b);
  const delta = (ma: Map<string, number>, mb: Map<string, number>) => {
    const keys = new Set([...ma.keys(), ...mb.keys()]);
    return [...keys]
      .map((k) => [k, (mb.get(k) ?? 0) / opsB - (ma.get(k) ?? 0) / opsA] as const)
      .sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]))
      .slice(0, top)
      .map(([k, d]) => `  ${d >= 0 ? "+" : "-"}${Math.abs(d).toFixed(2).padStart(6)} µs/op  ${k}`)
      .join("\n");
  };
  return [
    `busy per op: A ${(ta.busy / opsA).toFixed(1)} µs, B ${(tb.busy / opsB).toFixed(1)} µs (B − A ${(tb.busy / opsB - ta.busy / opsA).toFixed(1)})`,
    `\nby area (self time, B − A):\n${delta(ta.areaSelf, tb.areaSelf)}`,
    `\nby function (self time, B − A):\n${delta(ta.fnSelf, tb.fnSelf)}`,
    `\nTroupe runtime functions (inclusive, B − A):\n${delta(ta.incl, tb.incl)}`,
  ].join("\n");
}

function opsBeside(file: string): number | undefined {
  const sidecar = file.replace(/\.cpuprofile$/, ".ops.json");
  if (!existsSync(sidecar)) return undefined;
  return (JSON.parse(readFileSync(sidecar, "utf8")) as { ops: number }).ops;
}

const USAGE = `usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile... [--top N]
       node --import tsx bench/profile-summary.ts --diff A.cpuprofile B.cpuprofile [--top N]`;

function main(): void {
  const { values, positionals } = parseArgs({
    options: { top: { type: "string", default: "30" }, diff: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  if (values.diff) {
    const [fa, fb] = positionals;
    const opsA = fa && opsBeside(fa);
    const opsB = fb && opsBeside(fb);
    if (positionals.length !== 2 || !fa || !fb || !opsA || !opsB) {
      console.error(`${USAGE}\n--diff needs two profiles of --profile-window (each with its .ops.json)`);
      process.exit(2);
    }
    console.log(diff(read(fa), opsA, read(fb), opsB, Number(values.top)));
    return;
  }
  if (positionals.length === 0) {
    console.error(USAGE);
    process.exit(2);
  }
  for (const file of positionals) {
    console.log(`\n=== ${file}\n${summarise(read(file), Number(values.top), opsBeside(file))}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main();
}
