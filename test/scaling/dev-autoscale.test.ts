/**
 * `troupe dev --autoscale` as a real process: its dev host plus extra `troupe host` processes that
 * the local autoscaler starts while the job queue has a backlog and drains when it is gone; Ctrl-C
 * (SIGINT to the dev process alone, as a terminal sends it now that the extra hosts have their own
 * process group) stops the mesh with every extra host gone. Every wait is bounded; none is a sleep.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { connect, consoleLogger } from "troupe";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { Work } from "../../services/examples/scaling/work.js";
import { openTransport, waitFor } from "../control-plane/helpers.js";
import { onLines } from "../helpers/lines.js";
import { startServer } from "../helpers/nats.js";
import { runLogDir } from "./runs.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ENTRY = path.join(root, "services/examples/scaling/work.ts");
const JOBS = 600;
const JOB_MS = 200;
// The second backlog lasts long enough (about 40 s for the dev host alone) to Ctrl-C while it is worked.
const LONG_JOB_MS = 1000;
// Short windows so the scale-down shows within the test; the dev control plane reports every 1 s.
const POLICY = "max=3,drain=2s,down=3s";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls an asynchronous condition every 100 ms, for at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `promise`, or a rejection after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

test("dev --autoscale - a backlog starts extra host processes, they drain when it is gone, Ctrl-C leaves no host behind", async (t) => {
  t.timeout(600_000);
  const server = await startServer(t, { jetstream: true });
  const { dir, workLog } = runLogDir(t, "dev-autoscale");
  const prefix = `da${process.pid}`;
  const dev = spawn(
    process.execPath,
    [
      "--conditions=troupe-source",
      "--import",
      "tsx",
      path.join(root, "bin/troupe.js"),
      "dev",
      ENTRY,
      "--autoscale",
      "--autoscale-policy",
      POLICY,
      "--gateway-port",
      "0",
    ],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        NATS_URL: server.url,
        TROUPE_PREFIX: prefix,
        TROUPE_DEV_DIR: path.join(dir, "dev"),
        TROUPE_CONTROL_PLANE_PORT: "0",
        TROUPE_LOG_LEVEL: "warn",
        WORK_LOG: workLog,
      },
    },
  );
  const lines: string[] = [];
  onLines(dev.stdout, (l) => lines.push(l));
  onLines(dev.stderr, (l) => lines.push(l));
  const exited = exitOf(dev);
  const pids = new Set<number>();
  t.teardown(async () => {
    // Only if an assertion failed half-way: nothing of this test may outlive it.
    if (dev.exitCode === null && dev.signalCode === null) dev.kill("SIGKILL");
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  });
  const startedPids = () =>
    lines.flatMap((l) => {
      const m = /^troupe autoscale: work: started a host \(pid (\d+)\)$/.exec(l);
      return m ? [Number(m[1])] : [];
    });
  const exitedPids = () =>
    lines.flatMap((l) => {
      const m = /^troupe autoscale: work: host pid (\d+) exited/.exec(l);
      return m ? [Number(m[1])] : [];
    });
  const registered = () =>
    Math.max(0, ...lines.map((l) => Number(/^troupe autoscale: work: .*registered (\d+)/.exec(l)?.[1] ?? 0)));
  const ready = () => lines.some((l) => l.startsWith("troupe: autoscaling group work"));
  try {
    await waitFor(() => ready() || dev.exitCode !== null, 180_000, "the dev mesh to autoscale", 100);
    t.true(ready(), lines.join("\n"));

    const logger = consoleLogger("silent");
    const mesh = await connect({ servers: server.url, prefix, logger });
    t.teardown(() => mesh.close());
    const queues = jetStreamQueues(await openTransport(t, server.url));
    const enqueue = (batch: string, ms: number) =>
      Promise.all(
        Array.from({ length: JOBS }, (_, i) =>
          mesh.enqueue(Work, `${batch}${i}`, { keepResult: false }).run(`${batch}-${i}`, ms),
        ),
      );

    // 1. A backlog: extra hosts start; once it is gone they drain and exit, down to the dev host.
    // Enqueued once the control plane decides (after its warm-up): on a quiet machine the dev host
    // alone drains a backlog enqueued earlier before any decision is published.
    await waitFor(
      () => lines.some((l) => /^troupe autoscale: work: hosts \d+/.test(l)),
      120_000,
      "the control plane's first decision",
      100,
    );
    await enqueue("a", JOB_MS);
    await waitFor(() => startedPids().length > 0, 60_000, "an extra host to start", 100);
    for (const pid of startedPids()) pids.add(pid);
    await waitFor(
      () => lines.some((l) => /^troupe autoscale: work: hosts \d+ .*→ 1:/.test(l)) && exitedPids().length > 0,
      300_000,
      "the decision to fall back to the dev host alone and an extra host to exit",
      100,
    );
    await until(
      async () => (await queues.streamCounts(`${prefix}_jobs_Work`))?.messages === 0,
      120_000,
      "the backlog to drain",
    );
    await waitFor(
      () => startedPids().every((pid) => exitedPids().includes(pid)),
      120_000,
      "every extra host to drain and exit",
      100,
    );
    const runs = readFileSync(workLog, "utf8").split("\n").filter(Boolean);
    const unique = new Set(runs.map((r) => r.split(" ")[0]).filter((id) => id?.startsWith("a-")));
    t.is(unique.size, JOBS, "every job of the backlog ran");
    t.log(
      `backlog of ${JOBS} × ${JOB_MS} ms: ${startedPids().length} extra host(s) started, up to ${registered()} registered; ` +
        `runs ${runs.length}, duplicates ${runs.length - unique.size}`,
    );
    for (const pid of startedPids()) t.false(alive(pid), `extra host ${pid} exited`);

    // 2. Ctrl-C while extra hosts run: the dev mesh drains them, stops, and leaves none behind.
    const before = startedPids().length;
    await enqueue("b", LONG_JOB_MS);
    await waitFor(() => startedPids().length > before, 60_000, "an extra host for the second backlog", 100);
    for (const pid of startedPids()) pids.add(pid);
    const registeredBefore = lines.length;
    await waitFor(
      () => lines.slice(registeredBefore).some((l) => /registered [2-9]/.test(l)),
      120_000,
      "the extra host to register",
      100,
    );
    dev.kill("SIGINT");
    const code = await within(exited, 180_000, "troupe dev to exit after SIGINT");
    t.is(code, 0, lines.slice(-20).join("\n"));
    t.true(lines.includes("troupe: stopped."));
    t.true(lines.some((l) => /^troupe autoscale: stopped \(\d+ extra host\(s\) started in all\)$/.test(l)));
    for (const pid of startedPids()) t.false(alive(pid), `extra host ${pid} is gone`);
  } catch (err) {
    t.log(lines.join("\n"));
    throw err;
  }
});
