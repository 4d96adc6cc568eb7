/**
 * Drain-safe scale-in under load: the local autoscaler drains a `troupe host` process while it is
 * busy with jobs and a backlog is still waiting. The host stops pulling, finishes what it holds
 * (or hands it back), exits 0; the other host runs the rest. Every job runs; duplicates are counted
 * and each must be explained by the draining host (runs.ts). Then the hand-back itself: a host whose
 * drain timeout runs out naks the jobs it still runs, another host runs them, and the runs that
 * finish on the drained host anyway are the duplicates at-least-once allows.
 */
import { fileURLToPath } from "node:url";
import test from "ava";
import { connect, consoleLogger } from "troupe";
import { LocalAutoscaler } from "../../runtime/cli/local-autoscaler.js";
import { spawnTroupe } from "../../runtime/cli/scale.js";
import type { ScalingDecision__Output } from "../../runtime/protos/index.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { Work } from "../../services/examples/scaling/work.js";
import { openTransport, waitFor } from "../control-plane/helpers.js";
import { spawnTroupe as startTroupe } from "../deploy/processes.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";
import { readRuns, reportRuns, runLogDir } from "./runs.js";

const ENTRY = fileURLToPath(new URL("../../services/examples/scaling/work.ts", import.meta.url));
const JOBS = 240;
const JOB_MS = 300;
const CAPACITY = 4;
/** Far longer than the drain timeout below (100 ms), even on a starved machine. */
const JOB_MS_LONG = 5000;

test.serial(
  "scale-in - a host drained while it runs jobs finishes them and exits 0; every job runs, duplicates explained",
  async (t) => {
    t.timeout(600_000);
    const server = await startServer(t, { jetstream: true });
    const { workLog } = runLogDir(t, "scale-in");
    const prefix = "si";
    const logger = consoleLogger("silent");
    let desired = 2;
    const lines: string[] = [];
    // The decision is scripted: this test is about what a drain does, not about when to drain.
    const scaler = new LocalAutoscaler({
      group: "work",
      intervalMs: 200,
      out: (line) => lines.push(line),
      logger,
      stopTimeoutMs: 120_000,
      decide: async () =>
        ({
          desiredHosts: desired,
          currentHosts: desired,
          backlog: 0,
          arrivalPerSecond: 0,
          completionPerSecond: 0,
          reason: "scripted",
        }) as ScalingDecision__Output,
      spawnHost: () =>
        spawnTroupe(["host", ENTRY, "--group", "work", "--job-capacity", String(CAPACITY)], {
          ...process.env,
          NATS_URL: server.url,
          TROUPE_PREFIX: prefix,
          WORK_LOG: workLog,
          TROUPE_LOG_LEVEL: "warn",
        }),
    });
    t.teardown(() => scaler.stop());
    scaler.start();
    const started = () => lines.flatMap((l) => /started a host \(pid (\d+)\)/.exec(l)?.[1] ?? []).map(Number);
    await waitFor(() => started().length === 2, 60_000, "two hosts to start", 50);
    const newest = started()[1] as number;

    const mesh = await connect({ servers: server.url, prefix, logger });
    t.teardown(() => mesh.close());
    const queues = jetStreamQueues(await openTransport(t, server.url));
    await Promise.all(
      Array.from({ length: JOBS }, (_, i) =>
        mesh.enqueue(Work, `w${i}`, { keepResult: false }).run(`job-${i}`, JOB_MS),
      ),
    );
    // The newest host is busy (it has finished a few rounds of jobs) and a backlog is still waiting.
    await waitFor(
      () => readRuns(workLog).filter((r) => r.pid === newest).length >= 2 * CAPACITY,
      180_000,
      "the newest host to be busy with jobs",
      50,
    );
    const waiting = (await queues.streamCounts(`${prefix}_jobs_Work`))?.messages ?? 0;
    const before = readRuns(workLog).length;
    desired = 1;
    await waitFor(
      () => lines.some((l) => l.endsWith(`draining host pid ${newest}`)),
      30_000,
      "the drain",
      50,
    );
    const exit = () => lines.find((l) => l.includes(`host pid ${newest} exited`));
    await waitFor(() => exit() !== undefined, 120_000, "the drained host to exit", 50);
    const afterDrain = readRuns(workLog)
      .slice(before)
      .filter((r) => r.pid === newest).length;
    await waitFor(
      () => new Set(readRuns(workLog).map((r) => r.id)).size >= JOBS,
      300_000,
      "every job to run",
      100,
    );
    t.is((await queues.streamCounts(`${prefix}_jobs_Work`))?.messages, 0, "nothing left in the queue");
    await scaler.stop();

    const report = reportRuns(readRuns(workLog), new Set([newest]));
    t.log(
      `drained host ${newest} with ${waiting} jobs waiting: it finished ${afterDrain} after the signal, then ${exit()}; ` +
        `runs ${report.runs.length} for ${JOBS} jobs, duplicates ${report.duplicates}`,
    );
    for (const line of [...report.explained, ...report.unexplained]) t.log(line);
    t.true(waiting > 0, "a backlog was waiting when the host was drained");
    t.regex(exit() ?? "", /exited \(code 0\)/);
    t.true(afterDrain >= 1, "the drained host finished the jobs it held");
    t.is(report.ids.size, JOBS, "every job ran");
    t.deepEqual(report.unexplained, [], "every duplicate ran on the draining host");
    t.is(scaler.counts().running, 0);
  },
);

test.serial(
  "scale-in - a host whose drain timeout runs out hands its jobs back: another host runs them, duplicates counted and explained",
  async (t) => {
    t.timeout(300_000);
    const server = await startServer(t, { jetstream: true });
    const { workLog } = runLogDir(t, "hand-back");
    // This process's host logs its runs too (Work reads WORK_LOG when a run ends).
    const before = process.env.WORK_LOG;
    process.env.WORK_LOG = workLog;
    t.teardown(() => {
      if (before === undefined) delete process.env.WORK_LOG;
      else process.env.WORK_LOG = before;
    });
    const prefix = "hb";
    const { logger, entries } = recordingLogger();
    const mesh = await connect({ servers: server.url, prefix, logger });
    t.teardown(() => mesh.close());
    let started = 0;
    const host = await mesh.host([Work], {
      group: "work",
      jobs: {
        capacity: CAPACITY,
        drainTimeoutMs: 100,
        onEvent: (e) => void (e.kind === "started" && started++),
      },
    });
    // As many jobs as it runs at once, each far longer than its drain timeout.
    const ids = Array.from({ length: CAPACITY }, (_, i) => `long-${i}`);
    await Promise.all(ids.map((id) => mesh.enqueue(Work, id, { keepResult: false }).run(id, JOB_MS_LONG)));
    await waitFor(() => started === CAPACITY, 60_000, "this host to run every job");
    // Drained while all of them run: its drain timeout runs out long before they end, so it hands
    // them back (nak) and nothing of this host pulls them again.
    await host.drain();
    t.true(
      entries.some((e) => e.msg.includes("handed back for redelivery")),
      "the drain timed out and handed the jobs back",
    );
    // Another host, started now, finds them waiting.
    const other = startTroupe(t, ["host", ENTRY, "--group", "work", "--job-capacity", String(CAPACITY)], {
      env: { NATS_URL: server.url, TROUPE_PREFIX: prefix, WORK_LOG: workLog },
    });
    const otherPid = other.child.pid as number;
    await waitFor(
      () =>
        new Set(
          readRuns(workLog)
            .filter((r) => r.pid === otherPid)
            .map((r) => r.id),
        ).size === CAPACITY,
      120_000,
      "the other host to run every handed-back job",
      50,
    );
    await other.kill("SIGTERM");
    const report = reportRuns(readRuns(workLog), new Set([process.pid]));
    t.log(
      `${CAPACITY} jobs handed back by host ${process.pid}, run by ${otherPid}; runs ${report.runs.length}, ` +
        `duplicates ${report.duplicates}`,
    );
    for (const line of [...report.explained, ...report.unexplained]) t.log(line);
    t.deepEqual([...report.ids].sort(), ids);
    t.deepEqual(report.unexplained, []);
    t.is(report.explained.length, report.duplicates, "one line per duplicated job");
  },
);
