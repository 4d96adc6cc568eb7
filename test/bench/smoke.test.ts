/**
 * The bench's smoke mode runs in CI so the bench code never rots: every row must be measured
 * (exit code 0) and come back with positive numbers. Speed is measured by `npm run bench`, never
 * asserted here.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import type { BenchReport, Row } from "../../bench/lib/report.js";
import { rowSelector } from "../../bench/lib/scenario.js";
import { startProcess } from "../helpers/cli-process.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Every row `npm run bench` must produce, in order. */
const EXPECTED_ROWS = [
  "rr.echo.c1",
  "rr.echo.c64",
  "rr.counter.c1",
  "rr.counter.c64",
  "tell",
  "jobs",
  "jobs.result",
  "pubsub.fanout3",
  "cold-activation",
  "idle-memory",
  "tracing.off",
  "tracing.sampled",
  "tracing.ratio",
  "tracing.ratio1",
  "tracing.als",
  "tracing.header",
  "tracing.c1",
  "gateway.c64",
  "outbox.append",
  "outbox.drain",
  "throttle.c64",
  "placement.idle",
  "placement.steady",
  "placement.takeover",
  "placement.moves",
];

/** Rows of raw nats.js alone: one raw side against a raw baseline. */
const RAW_ONLY = new Set(["tracing.header"]);

/** Throughput rows measured at the receiver: no per-operation latency. */
const NO_LATENCY = new Set([
  "tell",
  "jobs",
  "jobs.result",
  "pubsub.fanout3",
  "outbox.append",
  "outbox.drain",
]);
/** Rows whose baseline is Troupe itself (tracing off / on), not raw nats.js. */
const TROUPE_BASELINE = new Set([
  "tracing.off",
  "tracing.sampled",
  "tracing.ratio",
  "tracing.ratio1",
  "tracing.als",
  "tracing.c1",
  "throttle.c64",
]);

/**
 * A guard, not a measure: the run is slow when the machine is busy. If it runs out, the failure
 * carries what the bench printed and what each of its processes was doing (a row that hangs).
 */
const SMOKE_GUARD_MS = 900_000;

async function runSmoke(
  jsonFile: string,
  more: string[] = [],
): Promise<{ code: number | null; output: string }> {
  const bench = startProcess(
    process.execPath,
    ["--conditions=troupe-source", "--import", "tsx", "bench/run.ts", "--smoke", "--json", jsonFile, ...more],
    { cwd: ROOT, env: process.env, name: `bench --smoke ${more.join(" ")}` },
  );
  try {
    const { code } = await bench.exited(SMOKE_GUARD_MS);
    return { code, output: bench.output() };
  } finally {
    bench.kill();
  }
}

const positive = (n: number | undefined) => typeof n === "number" && Number.isFinite(n) && n > 0;

/**
 * Placement rows (issue 17) compare Troupe with itself (1,024 against 64 shards per type) or with
 * the targets: every figure they report must be there.
 */
function checkPlacementRow(t: ExecutionContext, row: Row): void {
  t.true(row.sides.length > 0, `${row.id} has sides`);
  t.true(
    row.sides.every((s) => s.impl === "troupe" && positive(s.count)),
    `${row.id}: Troupe sides with a count`,
  );
  t.truthy(row.target, `${row.id}: its target evaluated`);
  for (const side of row.sides) {
    const what = `${row.id} / ${side.label}`;
    if (row.id === "placement.idle") t.true(positive(side.cpuMsPerSec), `${what}: CPU ms/s`);
    if (row.id === "placement.steady") {
      t.true(positive(side.kvWritesPerSec), `${what}: KV writes/s`);
      t.true(positive(side.deliveriesPerSec), `${what}: deliveries/s`);
    }
    if (row.id === "placement.takeover") {
      t.true(positive(side.allServedMs), `${what}: time until all served`);
      t.true(positive(side.targetMs), `${what}: its target`);
    }
    if (row.id === "placement.moves") t.true(positive(side.movesRatio), `${what}: moves over the ideal`);
  }
  if (row.id === "placement.idle" || row.id === "placement.steady") {
    t.is(row.sides.filter((s) => s.baseline).length, 1, `${row.id} marks one side as the baseline`);
  }
  if (row.id === "placement.idle") t.true(positive(row.ratio?.cpu), `${row.id}: CPU ratio`);
}

test("bench - --only selects scenarios, row ids and dotted prefixes, not a longer id", (t) => {
  const wants = rowSelector(["tracing.ratio", "rr.echo", "cold"]);
  t.true(wants("tracing", "tracing.ratio"));
  t.false(wants("tracing", "tracing.ratio1"));
  t.true(wants("rr", "rr.echo.c1"));
  t.true(wants("rr", "rr.echo.c64"));
  t.false(wants("rr", "rr.counter.c64"));
  t.true(wants("cold", "cold-activation"));
  t.true(rowSelector(undefined)("jobs", "jobs.result"));
});

test("bench - smoke mode measures every row", async (t) => {
  t.timeout(SMOKE_GUARD_MS + 60_000); // runSmoke fails first, with what the bench was doing
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-bench-smoke-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const jsonFile = path.join(dir, "bench.json");

  const { code, output } = await runSmoke(jsonFile);
  t.is(code, 0, output);

  const report = JSON.parse(await readFile(jsonFile, "utf8")) as BenchReport;
  t.is(report.mode, "smoke");
  t.is(report.runtimeBuild, "compiled with tsc, runtime and bench alike");
  t.truthy(report.node);
  t.regex(report.natsServer, /^\d+\.\d+\.\d+/);
  t.true(positive(report.payloadBytes));
  t.true(positive(report.machine.cpus));
  t.false(Number.isNaN(Date.parse(report.date)));
  t.deepEqual(
    report.rows.map((r) => r.id),
    EXPECTED_ROWS,
  );

  for (const row of report.rows as Row[]) {
    t.is(row.error, undefined, `${row.id} failed`);
    if (row.id.startsWith("placement.")) {
      checkPlacementRow(t, row);
      continue;
    }
    t.is(row.sides.filter((s) => s.baseline).length, 1, `${row.id} marks one side as the baseline`);
    if (TROUPE_BASELINE.has(row.id)) {
      t.true(
        row.sides.every((s) => s.impl === "troupe"),
        `${row.id} compares Troupe with itself`,
      );
    } else if (RAW_ONLY.has(row.id)) {
      t.true(
        row.sides.every((s) => s.impl === "raw"),
        `${row.id} compares raw nats.js with itself`,
      );
    } else {
      t.is(row.sides.filter((s) => s.impl === "troupe").length, 1, `${row.id} has one Troupe side`);
      t.is(row.sides.find((s) => s.baseline)?.impl, "raw", `${row.id} has a raw baseline`);
    }
    for (const side of row.sides) {
      const what = `${row.id} / ${side.label}`;
      t.true(positive(side.count), `${what}: count`);
      if (row.id === "idle-memory") {
        t.true(positive(side.bytesPerActor), `${what}: bytes per actor`);
        continue;
      }
      if (row.id === "tracing.off") {
        t.true(positive(side.nsPerOp), `${what}: ns per call`);
        continue;
      }
      t.true(positive(side.opsPerSec), `${what}: ops/s`);
      if (!NO_LATENCY.has(row.id)) {
        t.true(positive(side.p50Ms), `${what}: p50`);
        t.true(positive(side.p99Ms), `${what}: p99`);
      }
    }
    const troupeSide = row.sides.find((s) => s.impl === "troupe" && !s.baseline);
    const baseSide = row.sides.find((s) => s.baseline);
    if (troupeSide?.cpuUsPerOp && baseSide?.cpuUsPerOp) {
      t.true(positive(row.ratio?.cpuPerOp), `${row.id}: CPU per operation ratio`);
    }
    if (row.id === "idle-memory") t.true(positive(row.ratio?.bytes), `${row.id}: ratio`);
    else if (row.id === "tracing.off") t.true(positive(row.ratio?.overhead), `${row.id}: overhead`);
    else t.true(positive(row.ratio?.ops), `${row.id}: ratio`);
  }
});

test("bench - smoke mode also runs the TypeScript sources through tsx (--source)", async (t) => {
  t.timeout(SMOKE_GUARD_MS + 60_000); // runSmoke fails first, with what the bench was doing
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-bench-smoke-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const jsonFile = path.join(dir, "bench.json");
  const { code, output } = await runSmoke(jsonFile, ["--source", "--only", "rr.echo.c1,mem"]);
  t.is(code, 0, output);
  const report = JSON.parse(await readFile(jsonFile, "utf8")) as BenchReport;
  t.is(report.runtimeBuild, "TypeScript sources via tsx");
  t.deepEqual(
    report.rows.map((r) => [r.id, r.error]),
    [
      ["rr.echo.c1", undefined],
      ["idle-memory", undefined],
    ],
  );
});

test("bench - --profile-window profiles each measured window, and profile-summary compares two", async (t) => {
  t.timeout(SMOKE_GUARD_MS + 60_000); // runSmoke fails first, with what the bench was doing
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-bench-smoke-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const profiles = path.join(dir, "profiles");
  // A longer window than smoke's 600 ms: a loaded machine's first calls through tsx can take all of
  // that, and a window with no operation has no per-operation figures to compare.
  const { code, output } = await runSmoke(path.join(dir, "bench.json"), [
    "--duration",
    "2500",
    "--source",
    "--only",
    "tracing.als",
    "--profile-window",
    profiles,
  ]);
  t.is(code, 0, output);
  // One round per side in smoke mode: the ALS side and the no-SDK side, caller and host each.
  const files = (await readdir(profiles)).sort();
  t.deepEqual(files, [
    "callerAls-1.cpuprofile",
    "callerAls-1.ops.json",
    "callerOff-1.cpuprofile",
    "callerOff-1.ops.json",
    "hostAls-1.cpuprofile",
    "hostAls-1.ops.json",
    "hostOff-1.cpuprofile",
    "hostOff-1.ops.json",
  ]);
  for (const f of files.filter((f) => f.endsWith(".ops.json"))) {
    const { ops } = JSON.parse(await readFile(path.join(profiles, f), "utf8")) as { ops: number };
    t.true(positive(ops), `${f}: the window's operations`);
  }
  const summary = startProcess(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/profile-summary.ts",
      "--diff",
      path.join(profiles, "callerOff-1.cpuprofile"),
      path.join(profiles, "callerAls-1.cpuprofile"),
    ],
    { cwd: ROOT, env: process.env, name: "profile-summary --diff" },
  );
  const { code: summaryCode } = await summary.exited(120_000);
  t.is(summaryCode, 0, summary.output());
  t.regex(summary.output(), /busy per op: A [\d.]+ µs, B [\d.]+ µs/);
  t.regex(summary.output(), /by function \(self time, B − A\):\n {2}[+-]/);
});
