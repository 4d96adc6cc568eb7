/**
 * `npm run bench`: Troupe side by side with raw nats.js doing the same work, on a nats-server this
 * run starts for itself (never 127.0.0.1:4222), with callers and hosts in separate processes.
 *
 *   npm run bench                       full mode (3 interleaved rounds of 3 s per side; ~4 minutes)
 *   npm run bench -- --smoke            seconds; every row, tiny counts (CI: bench code never rots)
 *   npm run bench -- --json out.json    also write the results as JSON
 *   npm run bench -- --only rr,cold     only these scenarios (names: rr, tell, jobs, pubsub, cold, mem, tracing)
 *   npm run bench -- --profile dir      `--cpu-prof` every worker process into dir
 *   npm run bench -- --only rr.echo.c64 --impl troupe --profile dir    profile one hot path
 *
 * Exits 1 if any row failed to measure. Speeds are reported, never asserted.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { findNatsServer, startNatsServer } from "troupe/testing";
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
import { type BenchContext, FULL, type Settings, SMOKE, workersFor } from "./lib/scenario.js";
import { renderText } from "./lib/table.js";
import { SCENARIOS } from "./scenarios/index.js";

const USAGE = `usage: npm run bench -- [--smoke] [--json FILE] [--only NAMES] [--profile DIR]
                              [--impl troupe|raw] [--duration MS] [--warmup MS] [--rounds N]
                              [--built DIR]
  --smoke         tiny counts, every row, a few seconds (checks the bench code, not speed)
  --json FILE     also write the results as JSON
  --only NAMES    comma-separated scenario names (${SCENARIOS.map((s) => s.name).join(", ")}) or row ids
  --profile DIR   run every worker with --cpu-prof, profiles written to DIR
  --impl troupe   only the Troupe sides (or: raw), e.g. to profile one implementation
  --built DIR     workers use a tsc build of the runtime in DIR instead of the TypeScript sources
                  (npx tsc -p tsconfig.build.json --outDir DIR); tsx compiles with keepNames,
                  which costs memory per closure that a build does not have
  --duration MS   measured window per side and round (default: 3000 full, 150 smoke)
  --warmup MS     warm-up per side and round (default: 1000 full, 40 smoke)
  --rounds N      rounds per row, sides interleaved, medians reported (default: 3 full, 1 smoke)`;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUILT_REGISTER = fileURLToPath(new URL("./lib/built-register.mjs", import.meta.url));

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
      duration: { type: "string" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      built: { type: "string" },
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
  const settings: Settings = { ...(values.smoke ? SMOKE : FULL) };
  if (values.duration) settings.durationMs = positive("--duration", values.duration);
  if (values.warmup) settings.warmupMs = positive("--warmup", values.warmup, true);
  if (values.rounds) settings.rounds = Math.round(positive("--rounds", values.rounds));
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const wants = (scenario: string, rowId: string) =>
    !only || only.some((o) => scenario === o || rowId.startsWith(o));
  const scenarios = SCENARIOS.filter((s) => s.rows.some((r) => wants(s.name, r.id)));
  const impl = values.impl;
  if (impl !== undefined && impl !== "troupe" && impl !== "raw") throw new Error("--impl is troupe or raw");
  if (scenarios.length === 0) throw new Error(`--only ${values.only} matches no scenario`);
  const profileDir = values.profile ? path.resolve(values.profile) : undefined;
  const builtDir = values.built ? path.resolve(values.built) : undefined;
  if (builtDir && !existsSync(path.join(builtDir, "runtime", "index.js"))) {
    throw new Error(
      `--built ${builtDir}: no runtime/index.js there (npx tsc -p tsconfig.build.json --outDir DIR)`,
    );
  }
  if (profileDir) await mkdir(profileDir, { recursive: true });

  const began = performance.now();
  const bin = findNatsServer();
  const natsVersion = natsServerVersion(bin);
  const machine = machineInfo();
  const source = sourceInfo(REPO_ROOT);
  const runtimeBuild = builtDir ? `tsc build in ${builtDir}` : "TypeScript sources via tsx";
  const sourceText = `runtime at ${source.commit}${source.runtimeChanges > 0 ? ` + ${source.runtimeChanges} uncommitted runtime files` : ""} (${runtimeBuild})`;
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
        const env = { ...opts.env };
        if (builtDir) {
          nodeArgs.push("--import", BUILT_REGISTER);
          env.TROUPE_BENCH_BUILT = builtDir;
        }
        if (profileDir) {
          // One folder per process: tsx's loader thread writes a profile of its own next to the
          // main thread's (the larger file), so a fixed file name would be overwritten.
          nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${path.join(profileDir, `${scenario.name}-${role}`)}`);
        }
        return { ...opts, nodeArgs, env };
      };
      const ctx: BenchContext = {
        url: server.url,
        natsPid: server.pid,
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
    `\n${rows.length} rows in ${wallSeconds.toFixed(1)} s; ${failed.length} failed; issue 7 targets met: ${targets.filter((r) => r.target?.pass).length}/${targets.length}${mode === "smoke" ? " (smoke mode: numbers are not meaningful)" : ""}`,
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
