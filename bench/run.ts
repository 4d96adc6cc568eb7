/**
 * `npm run bench`: Troupe side by side with raw nats.js doing the same work, on a nats-server this
 * run starts for itself (never 127.0.0.1:4222), with callers and hosts in separate processes.
 *
 *   npm run bench                       full mode (3 interleaved rounds of 3 s per side; ~4 minutes)
 *   npm run bench -- --smoke            seconds; every row, tiny counts (CI: bench code never rots)
 *   npm run bench -- --json out.json    also write the results as JSON
 *   npm run bench -- --only rr,cold     only these scenarios (names: rr, tell, jobs, pubsub, cold, mem, tracing, placement, …)
 *   npm run bench -- --profile dir      `--cpu-prof` every worker process into dir
 *   npm run bench -- --only rr.echo.c64 --impl troupe --profile dir    profile one hot path
 *   npm run bench -- --only tracing.ratio1 --profile-window dir   profile the measured windows only
 *   npm run bench -- --source           run the TypeScript sources through tsx instead of a build
 *   npm run bench -- --heavy            the placement rows at full size (longer idle windows, 3
 *                                       takeover rounds, the model at 1,000 hosts × 100,000 shards)
 *
 * Workers run a tsc build of the runtime and the bench (made first, in a temporary folder): what
 * users run in production is the compiled package, and both sides of a row are compiled alike.
 *
 * Exits 1 if any row failed to measure. Speeds are reported, never asserted.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { findNatsServer, startNatsServer } from "troupe/testing";
import { profileWindows } from "./lib/cpu.js";
import type { SpawnOptions } from "./lib/ipc.js";
import { PAYLOAD_BYTES } from "./lib/payload.js";
import {
  type BenchReport,
  failedRow,
  machineInfo,
  natsServerVersion,
  type Row,
  sourceInfo,
} from "./lib/report.js";
import {
  type BenchContext,
  FULL,
  HEAVY_PLACEMENT,
  rowSelector,
  type Settings,
  SMOKE,
  workersFor,
} from "./lib/scenario.js";
import { renderText } from "./lib/table.js";
import { SCENARIOS } from "./scenarios/index.js";

const USAGE = `usage: npm run bench -- [--smoke] [--json FILE] [--only NAMES] [--profile DIR]
                              [--profile-window DIR]
                              [--impl troupe|raw] [--duration MS] [--warmup MS] [--rounds N] [--rate N]
                              [--source | --built DIR] [--heavy]
  --smoke         tiny counts, every row, a few seconds (checks the bench code, not speed)
  --json FILE     also write the results as JSON
  --only NAMES    comma-separated scenario names (${SCENARIOS.map((s) => s.name).join(", ")}), row ids
                  or their dotted prefixes (rr.echo: rr.echo.c1 and rr.echo.c64)
  --profile DIR   run every worker with --cpu-prof, profiles written to DIR
  --profile-window DIR
                  profile each measured window of the rows that measure CPU per side (warm-up
                  left out): DIR/<worker role>-<n>.cpuprofile
  --impl troupe   only the Troupe sides (or: raw), e.g. to profile one implementation
  --source        workers run the TypeScript sources through tsx (esbuild, keepNames: a property
                  store per named closure) instead of a tsc build, as during development
  --built DIR     workers use this tsc build instead of making one
                  (npx tsc -p tsconfig.bench.json --outDir DIR)
  --heavy         placement rows at full size: 30 s idle windows, 3 takeover rounds, the moves
                  model at 1,000 hosts × 100,000 shards (a few minutes more)
  --duration MS   measured window per side and round (default: 3000 full, 600 smoke)
  --warmup MS     warm-up per side and round (default: 1000 full, 150 smoke)
  --rounds N      rounds per row, sides interleaved, medians reported (default: 3 full, 1 smoke)
  --rate N        request-reply and tracing rows start N calls/s (at most their concurrency in
                  flight) instead of a closed loop: sides doing the same work per second compare
                  CPU per call without the batching a faster side gets (read the CPU/op column)`;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Compiles the runtime and the bench into `dir` with the repository's TypeScript. */
function buildForBench(dir: string): void {
  const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.bench.json", "--outDir", dir], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`building the bench failed:\n${r.stdout}${r.stderr}`);
  // The gRPC definitions are read at run time (runtime/protos/load looks two folders up).
  cpSync(path.join(REPO_ROOT, "protos"), path.join(dir, "protos"), { recursive: true });
}

function natsJsVersion(): string {
  try {
    const pkg = path.join(REPO_ROOT, "node_modules", "@nats-io", "nats-core", "package.json");
    return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean", default: false },
      json: { type: "string" },
      only: { type: "string" },
      profile: { type: "string" },
      "profile-window": { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      rate: { type: "string" },
      built: { type: "string" },
      source: { type: "boolean", default: false },
      heavy: { type: "boolean", default: false },
      impl: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const mode = values.smoke ? "smoke" : "full";
  const settings: Settings = { ...(values.smoke ? SMOKE : FULL), ...(values.heavy ? HEAVY_PLACEMENT : {}) };
  if (values.duration) settings.durationMs = positive("--duration", values.duration);
  if (values.warmup) settings.warmupMs = positive("--warmup", values.warmup, true);
  if (values.rounds) settings.rounds = Math.round(positive("--rounds", values.rounds));
  if (values.rate) settings.ratePerSec = positive("--rate", values.rate);
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const wants = rowSelector(only);
  const scenarios = SCENARIOS.filter((s) => s.rows.some((r) => wants(s.name, r.id)));
  const impl = values.impl;
  if (impl !== undefined && impl !== "troupe" && impl !== "raw") throw new Error("--impl is troupe or raw");
  if (scenarios.length === 0) throw new Error(`--only ${values.only} matches no scenario`);
  const profileDir = values.profile ? path.resolve(values.profile) : undefined;
  if (values.source && values.built) throw new Error("--source and --built exclude each other");
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const windowDir = values["profile-window"] ? path.resolve(values["profile-window"]) : undefined;
  if (windowDir) {
    await mkdir(windowDir, { recursive: true });
    profileWindows(windowDir, settings.warmupMs);
  }

  const began = performance.now();
  let builtDir: string | undefined;
  let tempBuild: string | undefined;
  if (values.built) {
    builtDir = path.resolve(values.built);
    if (!existsSync(path.join(builtDir, "bench", "worker.js"))) {
      throw new Error(
        `--built ${builtDir}: no bench/worker.js there (npx tsc -p tsconfig.bench.json --outDir DIR)`,
      );
    }
    // tsc does not copy the gRPC definitions the throttling and gateway rows load at run time.
    if (!existsSync(path.join(builtDir, "protos"))) {
      cpSync(path.join(REPO_ROOT, "protos"), path.join(builtDir, "protos"), { recursive: true });
    }
  } else if (!values.source) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-bench-build-"));
    // Removed however the run ends (every path ends in process.exit).
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    tempBuild = dir;
    buildForBench(dir);
    builtDir = tempBuild;
  }
  const bin = findNatsServer();
  const natsVersion = natsServerVersion(bin);
  const machine = machineInfo();
  const source = sourceInfo(REPO_ROOT);
  const runtimeBuild = values.source
    ? "TypeScript sources via tsx"
    : tempBuild
      ? "compiled with tsc, runtime and bench alike"
      : `tsc build in ${builtDir}`;
  const paced = settings.ratePerSec
    ? ` · request-reply and tracing rows paced at ${settings.ratePerSec} calls/s`
    : "";
  const sourceText = `runtime at ${source.commit}${source.runtimeChanges > 0 ? ` + ${source.runtimeChanges} uncommitted runtime files` : ""} (${runtimeBuild})${paced}`;
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  log(
    `${mode} mode · ${machine.cpus} × ${machine.cpuModel} · node ${process.version} · nats-server ${natsVersion} · nats.js ${natsJsVersion()} · payload ${PAYLOAD_BYTES} B msgpack · ${sourceText}`,
  );

  const server = await startNatsServer({ bin });
  const rows: Row[] = [];
  try {
    for (const scenario of scenarios) {
      const recorded = new Map<string, Row>();
      const decorate = (role: string, opts: SpawnOptions): SpawnOptions => {
        const nodeArgs = [...(opts.nodeArgs ?? [])];
        if (profileDir) {
          // One folder per process: tsx's loader thread writes a profile of its own next to the
          // main thread's (the larger file), so a fixed file name would be overwritten.
          nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${path.join(profileDir, `${scenario.name}-${role}`)}`);
        }
        return { ...opts, nodeArgs, ...(builtDir ? { build: builtDir } : {}) };
      };
      const ctx: BenchContext = {
        url: server.url,
        natsPid: server.pid,
        monitorUrl: server.monitorUrl,
        settings,
        withWorkers: workersFor(server.url, scenario.name, decorate),
        wants: (rowId) => wants(scenario.name, rowId),
        wantsImpl: (i) => impl === undefined || i === impl,
        log,
        record: (row) => recorded.set(row.id, row),
      };
      try {
        await scenario.run(ctx);
      } catch (err) {
        log(`${scenario.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        for (const spec of scenario.rows) {
          if (!recorded.has(spec.id)) recorded.set(spec.id, failedRow(spec, err));
        }
      }
      for (const spec of scenario.rows) {
        if (!wants(scenario.name, spec.id)) continue;
        rows.push(recorded.get(spec.id) ?? failedRow(spec, new Error("the scenario recorded no such row")));
      }
    }
  } finally {
    await server.cleanup();
  }

  const wallSeconds = (performance.now() - began) / 1000;
  console.log(
    `\nTroupe vs raw nats.js (${mode} mode) · ${machine.cpus} × ${machine.cpuModel} · node ${process.version} · nats-server ${natsVersion} · payload ${PAYLOAD_BYTES} B msgpack · ${sourceText}\n`,
  );
  console.log(renderText(rows));
  const failed = rows.filter((r) => r.error);
  const targets = rows.filter((r) => r.target);
  console.log(
    `\n${rows.length} rows in ${wallSeconds.toFixed(1)} s; ${failed.length} failed; targets met (issues 7 and 17): ${targets.filter((r) => r.target?.pass).length}/${targets.length}${mode === "smoke" ? " (smoke mode: numbers are not meaningful)" : ""}`,
  );

  if (values.json) {
    const report: BenchReport = {
      schema: 1,
      mode,
      date: new Date().toISOString(),
      machine,
      node: process.version,
      natsServer: natsVersion,
      natsJs: natsJsVersion(),
      source,
      runtimeBuild,
      payloadBytes: PAYLOAD_BYTES,
      settings: { ...settings },
      rows,
      wallSeconds,
    };
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`results written to ${values.json}`);
  }
  if (profileDir) log(`CPU profiles in ${profileDir} (summarise: bench/profile-summary.ts)`);
  if (windowDir) log(`window profiles in ${windowDir} (summarise: bench/profile-summary.ts)`);
  return failed.length > 0 ? 1 : 0;
}

function positive(flag: string, value: string, zeroOk = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!zeroOk && n === 0))
    throw new Error(`${flag} needs a positive number`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
