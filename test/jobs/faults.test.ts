/**
 * Durable jobs under faults: a host killed with SIGKILL mid-job, a nats-server restarted under
 * load. Waits are generous bounds, never speed assertions.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { connect, consoleLogger, type Mesh } from "troupe";
import { enqueue, type Job, type JobRunnerOptions, startJobRunner } from "../../runtime/jobs/index.js";
import { onLines } from "../helpers/lines.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";
import { Work } from "./fixtures/actors.js";
import { sleep } from "./helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(root, "test/jobs/fixtures/host.ts");
let seq = 0;
const uniquePrefix = () => `jf${process.pid}x${++seq}`;

interface HostProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<unknown>;
  started: string[];
}

function spawnHost(
  t: import("ava").ExecutionContext,
  servers: string,
  prefix: string,
  name: string,
  runner: JobRunnerOptions,
): HostProcess {
  const child = spawn(process.execPath, ["--conditions=troupe-source", "--import", "tsx", FIXTURE], {
    cwd: root,
    env: {
      ...process.env,
      NATS_URL: servers,
      TROUPE_PREFIX: prefix,
      HOST_NAME: name,
      RUNNER: JSON.stringify(runner),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const started: string[] = [];
  const exited = new Promise((r) => child.once("exit", r));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  t.teardown(async () => {
    if (alive) child.kill("SIGKILL");
    await exited;
  });
  onLines(child.stderr, (line) => {
    if (process.env.TROUPE_TEST_ECHO === "1") process.stderr.write(`[${name}] ${line}\n`);
    try {
      const l = JSON.parse(line) as { msg?: string; tag?: string };
      if (l.msg === "job started" && l.tag) started.push(l.tag);
    } catch {
      // not JSON
    }
  });
  const ready = new Promise<void>((resolve, reject) => {
    onLines(child.stdout, (line) => {
      if (line.includes('"ready"')) resolve();
    });
    void exited.then(() => reject(new Error(`${name} exited before it was ready`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited, started };
}

async function client(t: import("ava").ExecutionContext, servers: string, prefix: string): Promise<Mesh> {
  const mesh = await connect({ servers, prefix, logger: consoleLogger("silent") });
  t.teardown(() => mesh.close());
  return mesh;
}

test.serial(
  "jobs - a host killed with SIGKILL mid-job: its jobs are redelivered and complete, none lost",
  async (t) => {
    const server = await startServer(t);
    const prefix = uniquePrefix();
    const runner: JobRunnerOptions = { ackWaitMs: 2000, capacity: 3, initialDelayMs: 100, maxDelayMs: 500 };
    const a = spawnHost(t, server.url, prefix, "a", runner);
    const b = spawnHost(t, server.url, prefix, "b", runner);
    await Promise.all([a.ready, b.ready]);
    const mesh = await client(t, server.url, prefix);
    const tags = Array.from({ length: 8 }, (_, i) => `k${i}`);
    // timeoutMs bounds how long a runner waits on a turn whose host died (then it retries).
    const jobs = await Promise.all(
      tags.map((tag) => enqueue(mesh, Work, tag, { timeoutMs: 6000, maxAttempts: 10 }).slow(tag, 1500)),
    );
    await eventually(() => a.started.length > 0, 30_000, "a job running on host a");
    const interrupted = [...a.started];
    a.child.kill("SIGKILL");
    await a.exited;
    const results = await Promise.all(jobs.map((j) => j.result({ timeoutMs: 60_000 })));
    t.is(results.length, tags.length, "every job completed");
    t.true(results.every((host) => host === "a" || host === "b"));
    for (const tag of interrupted) {
      t.true(b.started.includes(tag), `interrupted job ${tag} ran again on the survivor`);
    }
  },
);

test.serial("jobs - nats-server restart under load: no acknowledged job is lost", async (t) => {
  const server = await startServer(t);
  const prefix = uniquePrefix();
  const mesh = await client(t, server.url, prefix);
  await mesh.host([Work], { jobs: false });
  const runner = await startJobRunner(mesh, [Work], {
    capacity: 8,
    ackWaitMs: 3000,
    initialDelayMs: 100,
    maxDelayMs: 1000,
  });
  t.teardown(() => runner.stop());
  const producer = await client(t, server.url, prefix);

  const acknowledged: Job[] = [];
  let refused = 0;
  let stop = false;
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        acknowledged.push(await enqueue(producer, Work, `r${i % 20}`).double(i));
      } catch {
        refused++; // not acknowledged: the producer knows it was not stored
        await sleep(50);
      }
    }
  })();
  await eventually(() => acknowledged.length >= 100, 30_000, "100 acknowledged jobs");
  await server.restart();
  const atRestart = acknowledged.length;
  await eventually(
    () => acknowledged.length >= atRestart + 100,
    60_000,
    "more jobs acknowledged after the restart",
  );
  stop = true;
  await load;
  const results = await Promise.all(
    acknowledged.map((j) => j.result({ timeoutMs: 60_000 }) as Promise<number>),
  );
  t.is(results.length, acknowledged.length);
  t.log(
    `${acknowledged.length} acknowledged jobs all completed; ${refused} enqueues refused during the restart`,
  );
});
