/**
 * End to end: real nats-server, the control plane in-process, the local autoscaler starting and
 * draining real `troupe host` processes. N jobs of ~50 ms (waiting, not burning CPU) drain once
 * with the group capped at 1 host and once with max 4; the second run must add hosts, drain
 * faster (both times are logged), and scale back down to min; every job runs, and duplicates are
 * counted and each explained by a host that was draining (see runs.ts).
 *
 * TROUPE_SCALE_JOBS sets N (default 3,000, as issue 16 asks: about 3 minutes with one host),
 * TROUPE_SCALE_CAPACITY the jobs a host runs at once (default 1: one host must be slow enough for
 * the extra hosts' start-up, tens of seconds on a loaded machine, to pay off).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { connect, consoleLogger } from "troupe";
import { LocalAutoscaler } from "../../runtime/cli/local-autoscaler.js";
import { spawnTroupe } from "../../runtime/cli/scale.js";
import type { ScalingDecision__Output } from "../../runtime/protos/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { type ControlPlane, startControlPlane } from "../../services/control-plane/index.js";
import { groupPolicy } from "../../services/control-plane/scaling/index.js";
import { Work } from "../../services/examples/scaling/work.js";
import { openTransport, TOKEN, waitFor } from "../control-plane/helpers.js";
import { startServer } from "../helpers/nats.js";
import { drainedPids, type RunReport, readRuns, reportRuns, runLogDir } from "./runs.js";

const JOBS = Number(process.env.TROUPE_SCALE_JOBS ?? 3000);
// One job at a time per host: the ~50 ms wait, not the machine's CPU, bounds a host's throughput,
// so more hosts can drain faster even on 2 busy cores.
const CAPACITY = Number(process.env.TROUPE_SCALE_CAPACITY ?? 1);
const INTERVAL_MS = 500;
const ENTRY = fileURLToPath(new URL("../../services/examples/scaling/work.ts", import.meta.url));

interface RunResult {
  drainMs: number;
  maxHosts: number;
  maxDesired: number;
  report: RunReport;
  scaledDownTo: number;
  lines: string[];
}

async function drainWith(
  t: ExecutionContext,
  natsUrl: string,
  prefix: string,
  hostLimit: number,
): Promise<RunResult> {
  const { dir, workLog } = runLogDir(t, "scale");
  const tokenFile = path.join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const logger = consoleLogger("silent");
  const plane: ControlPlane = await startControlPlane({
    port: 0,
    bind: "127.0.0.1",
    nats: { servers: natsUrl },
    prefix,
    tokens: [TOKEN],
    reportIntervalMs: INTERVAL_MS,
    logger,
    scaling: {
      groups: [
        groupPolicy({
          group: "work",
          minHosts: 1,
          maxHosts: hostLimit,
          targetDrainMs: 5000,
          types: ["Work"],
          // Long enough to ride out a slow sample, short enough to see the scale-down in the test.
          scaleDownWindowMs: 10 * INTERVAL_MS,
          stuckAfterMs: 120_000,
        }),
      ],
    },
  });
  t.teardown(() => plane.stop());
  const connection = connectControlPlane({ address: plane.address, token: TOKEN });
  t.teardown(() => connection.close());
  let last: ScalingDecision__Output | undefined;
  const lines: string[] = [];
  const scaler = new LocalAutoscaler({
    group: "work",
    intervalMs: INTERVAL_MS,
    out: (line) => lines.push(line),
    logger,
    stopTimeoutMs: 60_000,
    decide: () =>
      new Promise((resolve) => {
        connection.scaling.GetDecision({ group: "work" }, connection.metadata(), (err, d) => {
          last = err ? undefined : d;
          resolve(last);
        });
      }),
    spawnHost: () =>
      spawnTroupe(
        [
          "host",
          ENTRY,
          "--group",
          "work",
          "--control-plane",
          plane.address,
          "--control-token-file",
          tokenFile,
          "--job-capacity",
          String(CAPACITY),
        ],
        {
          ...process.env,
          NATS_URL: natsUrl,
          TROUPE_PREFIX: prefix,
          WORK_LOG: workLog,
          TROUPE_LOG_LEVEL: "warn",
        },
      ),
  });
  t.teardown(() => scaler.stop());
  scaler.start();
  await waitFor(() => (last?.currentHosts ?? 0) >= 1, 120_000, "the first host to register", 100);

  const mesh = await connect({ servers: natsUrl, prefix, logger });
  t.teardown(() => mesh.close());
  const transport = await openTransport(t, natsUrl);
  const queues = jetStreamQueues(transport);
  const stream = `${prefix}_jobs_Work`;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      mesh.enqueue(Work, `w${i}`, { keepResult: false }).run(`job-${i}`),
    ),
  );
  let maxHosts = 0;
  let maxDesired = 0;
  let drained = false;
  const watch = setInterval(() => {
    maxHosts = Math.max(maxHosts, scaler.counts().running);
    maxDesired = Math.max(maxDesired, last?.desiredHosts ?? 0);
  }, 100);
  t.teardown(() => clearInterval(watch));
  while (!drained) {
    const counts = await queues.streamCounts(stream);
    drained = counts?.messages === 0;
    if (!drained) await new Promise((r) => setTimeout(r, 100));
    if (performance.now() - started > 600_000) throw new Error("the queue did not drain within 10 minutes");
  }
  const drainMs = performance.now() - started;
  // Back to min: the extra hosts drain and exit.
  await waitFor(
    () => scaler.counts().running === 1 && scaler.counts().draining === 0,
    180_000,
    "scale-down to min",
    100,
  );
  clearInterval(watch);
  await scaler.stop();
  const report = reportRuns(readRuns(workLog), drainedPids(lines));
  return { drainMs, maxHosts, maxDesired, report, scaledDownTo: 1, lines };
}

test("autoscale - a backlog adds hosts, drains faster than one host, scales back to min; every job runs once or is counted", async (t) => {
  t.timeout(900_000);
  const server = await startServer(t, { jetstream: true });
  const one = await drainWith(t, server.url, "sc1", 1);
  const auto = await drainWith(t, server.url, "sc4", 4);
  for (const [name, r] of [
    ["1 host", one],
    ["autoscaled (max 4)", auto],
  ] as const) {
    const { ids, runs, duplicates, explained, unexplained } = r.report;
    t.log(
      `${name}: ${JOBS} jobs drained in ${(r.drainMs / 1000).toFixed(1)} s; hosts up to ${r.maxHosts} ` +
        `(desired up to ${r.maxDesired}); runs ${runs.length}, duplicates ${duplicates}`,
    );
    for (const line of [...explained, ...unexplained]) t.log(`${name}: ${line}`);
    for (let i = 0; i < JOBS; i++) if (!ids.has(`job-${i}`)) t.fail(`${name}: job-${i} never ran`);
    t.is(ids.size, JOBS, `${name}: every job ran`);
    t.deepEqual(unexplained, [], `${name}: every duplicate ran on a draining host`);
  }
  t.log(`autoscaler lines (first 3): ${auto.lines.slice(0, 3).join(" | ")}`);
  t.is(one.maxHosts, 1);
  t.true(auto.maxDesired > 1, "the decision rose above one host");
  t.true(auto.maxHosts > 1, "hosts were added");
  t.true(auto.drainMs < one.drainMs, "more hosts drained the backlog faster");
});
