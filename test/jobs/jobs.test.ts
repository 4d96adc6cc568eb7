/**
 * Durable jobs against a real nats-server: results by job id, dedup, load leveling, retries,
 * dead letters and replay. Tests wait with generous bounds and never assert durations.
 */
import test from "ava";
import { ActorMethodError, MalformedMessageError } from "troupe";
import {
  deadLetters,
  enqueue,
  JobDeadLetteredError,
  JobResultUnavailableError,
  jobHandle,
  QueueFullError,
  replayDeadLetter,
  startJobRunner,
} from "../../runtime/jobs/index.js";
import { namesOf } from "../../runtime/jobs/streams.js";
import { encode } from "../../runtime/messaging/codec.js";
import { decodeJob, newJobId } from "../../runtime/messaging/index.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { seen, Work } from "./fixtures/actors.js";
import { startJobs } from "./helpers.js";

test.beforeEach(() => seen.reset());

test.serial(
  "jobs - a job's result is read back by id from a new connection after the caller went away",
  async (t) => {
    const fx = await startJobs(t);
    const producer = await fx.connectAnother();
    const job = await enqueue(producer, Work, "w1").double(21);
    const id = job.id;
    await producer.close();
    // A "restarted" caller: another connection that only knows the job id.
    const later = await fx.connectAnother();
    t.is(await jobHandle<number>(later, id).result({ timeoutMs: 20_000 }), 42);
  },
);

test.serial("jobs - a job enqueued with keepResult: false runs and stores no result", async (t) => {
  const fx = await startJobs(t);
  const job = await enqueue(fx.mesh, Work, "w1", { keepResult: false }).record("no-result");
  t.false(job.keepsResult);
  await t.throwsAsync(job.result({ timeoutMs: 0 }), {
    instanceOf: JobResultUnavailableError,
    message: /keepResult: false/,
  });
  // A job with a result, enqueued after it on the same queue, finishing means the first ran too.
  await (await enqueue(fx.mesh, Work, "w1").record("with-result")).result({ timeoutMs: 20_000 });
  await eventually(() => seen.runs.get("no-result") === 1, 10_000, "the job without a result to run");
  const names = namesOf(fx.mesh);
  const stored = await jetStreamQueues(fx.mesh.transport).lastBySubject(
    names.resultsStream(),
    names.resultSubject(job.id),
  );
  t.is(stored, null, "nothing in the results stream");
  // A handle made from the id alone cannot know; it waits and reports no result.
  await t.throwsAsync(jobHandle(fx.mesh, job.id).result({ timeoutMs: 200 }), {
    instanceOf: JobResultUnavailableError,
  });
});

test("jobs - job envelopes stored before keepResult existed (7 elements) still decode and keep their result", (t) => {
  const jobId = newJobId();
  const old = decodeJob(encode([1, jobId, "a1", "record", ["x"], 1000, 0]));
  t.is(old.jobId, jobId);
  t.true(old.keepResult);
  t.false(decodeJob(encode([1, jobId, "a1", "record", [], 1000, 0, 0])).keepResult);
  t.throws(() => decodeJob(encode([1, jobId, "a1", "record", [], 1000, 0, 2])), { message: /keepResult/ });
});

test.serial(
  "jobs - a result that cannot be encoded dead-letters the job as malformed, without retries",
  async (t) => {
    const fx = await startJobs(t, { maxAttempts: 3 });
    const job = await enqueue(fx.mesh, Work, "w1").unencodable("u1");
    const err = await t.throwsAsync(job.result({ timeoutMs: 20_000 }), { instanceOf: JobDeadLetteredError });
    t.true(err?.remote instanceof MalformedMessageError, `remote is ${err?.remote.name}`);
    t.is(seen.runs.get("u1"), 1, "not retried");
  },
);

test.serial("jobs - a duplicate within the dedup window is dropped", async (t) => {
  const fx = await startJobs(t);
  const first = await enqueue(fx.mesh, Work, "w1", { key: "order-17" }).record("dup");
  const second = await enqueue(fx.mesh, Work, "w1", { key: "order-17" }).record("dup");
  t.false(first.duplicate);
  t.true(second.duplicate);
  t.is(second.id, first.id, "the same key names the same job");
  t.is((await first.result({ timeoutMs: 20_000 })).runs, 1);
  // A later job through the same queue has run too, and the duplicate still never did.
  await (await enqueue(fx.mesh, Work, "w1").record("after")).result({ timeoutMs: 20_000 });
  t.is(seen.runs.get("dup"), 1);
});

test.serial("jobs - a slow consumer holds at most its capacity while 10,000 jobs wait", async (t) => {
  const capacity = 4;
  const fx = await startJobs(t, { capacity });
  const total = 10_000;
  for (let i = 0; i < total; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, total - i) }, (_, k) =>
        enqueue(fx.mesh, Work, `s${(i + k) % 50}`).slow(`t${i + k}`, 20),
      ),
    );
  }
  await eventually(() => (fx.runner.stats("Work")?.succeeded ?? 0) >= 60, 60_000, "60 jobs done");
  const stats = fx.runner.stats("Work");
  t.truthy(stats);
  t.true(
    (stats?.maxHeld ?? Infinity) <= capacity,
    `runner held at most ${capacity} (held ${stats?.maxHeld})`,
  );
  t.true(seen.maxRunning <= capacity, `at most ${capacity} ran at once (saw ${seen.maxRunning})`);
  t.true(seen.maxRunning >= 1);
  const counts = await jetStreamQueues(fx.mesh.transport).consumerCounts(
    `${fx.mesh.subjects.prefix}_jobs_Work`,
    "runner",
  );
  t.true((counts?.pending ?? 0) > total / 2, "the rest wait on the server, not in the runner");
  t.true((counts?.ackPending ?? Infinity) <= capacity);
  await fx.runner.stop();
});

test.serial(
  "jobs - a poison job gets exactly maxAttempts attempts with backoff, then sits in the DLQ with its reason while other jobs flow",
  async (t) => {
    const fx = await startJobs(t, { maxAttempts: 4 });
    const poison = await enqueue(fx.mesh, Work, "bad").poison("p1");
    const good = await Promise.all(
      Array.from({ length: 20 }, (_, i) => enqueue(fx.mesh, Work, `g${i}`).double(i)),
    );
    const err = await t.throwsAsync(poison.result({ timeoutMs: 30_000 }), {
      instanceOf: JobDeadLetteredError,
    });
    t.true(err?.remote instanceof ActorMethodError);
    t.regex(err?.message ?? "", /poison p1 refuses/);
    t.is(err?.attempts, 4);
    t.deepEqual(
      await Promise.all(good.map((j) => j.result({ timeoutMs: 20_000 }))),
      Array.from({ length: 20 }, (_, i) => i * 2),
    );

    const mine = fx.events.filter((e) => e.jobId === poison.id);
    const started = mine.filter((e) => e.kind === "started");
    t.deepEqual(
      started.map((e) => e.attempt),
      [1, 2, 3, 4],
      "attempts 1..max, each once",
    );
    const times = started.map((e) => e.atMs);
    t.deepEqual(
      [...times].sort((a, b) => a - b),
      times,
      "attempt times never go backwards",
    );
    const retries = mine.filter((e) => e.kind === "retry");
    t.is(retries.length, 3);
    t.true(
      retries.every((e) => e.kind === "retry" && e.delayMs >= 0 && e.delayMs <= 1000),
      "delays within the backoff cap",
    );
    t.is(seen.attempts.get("p1")?.length, 4, "the handler ran exactly 4 times");

    const dead = [];
    for await (const d of deadLetters(fx.mesh, { type: "Work" })) dead.push(d);
    t.is(dead.length, 1);
    t.like(dead[0], {
      jobId: poison.id,
      reason: "attempts-exhausted",
      attempts: 4,
      actorId: "bad",
      method: "poison",
    });
    t.is(dead[0]?.error.code, "TROUPE_ACTOR_METHOD_FAILED");
    t.regex(dead[0]?.error.message ?? "", /poison p1/);
    t.true((dead[0]?.data.length ?? 0) > 0, "original bytes kept");
  },
);

test.serial("jobs - a TerminalError dead-letters the job after one attempt", async (t) => {
  const fx = await startJobs(t, { maxAttempts: 5 });
  const job = await enqueue(fx.mesh, Work, "t").refuse("invalid order");
  const err = await t.throwsAsync(job.result({ timeoutMs: 20_000 }), { instanceOf: JobDeadLetteredError });
  t.is(err?.remote.code, "TROUPE_TERMINAL");
  t.is(seen.runs.get("refuse:invalid order"), 1);
  const [dead] = await collect(deadLetters(fx.mesh));
  t.like(dead, { reason: "terminal", attempts: 1 });
});

test.serial("jobs - replaying a dead letter after the fix succeeds once", async (t) => {
  const fx = await startJobs(t, { maxAttempts: 2 });
  const job = await enqueue(fx.mesh, Work, "f").fragile("invoice-9");
  await t.throwsAsync(job.result({ timeoutMs: 20_000 }), { instanceOf: JobDeadLetteredError });
  const [dead] = await collect(deadLetters(fx.mesh, { type: "Work" }));
  if (!dead) throw new Error("no dead letter");
  seen.broken = false; // the fix
  t.is(await replayDeadLetter(fx.mesh, dead.seq), "replayed");
  t.is(await replayDeadLetter(fx.mesh, dead.seq), "missing", "a replayed entry leaves the DLQ");
  await eventually(
    async () => {
      try {
        return (await job.result({ timeoutMs: 0 })) === "done invoice-9";
      } catch {
        return false;
      }
    },
    20_000,
    "the replayed job's result",
  );
  t.is(seen.runs.get("invoice-9"), 1, "ran once after the fix");
  t.is((await collect(deadLetters(fx.mesh))).length, 0);
});

test("jobs - a full queue refuses a job with QueueFullError", async (t) => {
  const { mesh } = await startMesh(t);
  const opts = { queue: { maxJobs: 3 } };
  for (let i = 0; i < 3; i++) await enqueue(mesh, Work, "q", opts).double(i);
  await t.throwsAsync(enqueue(mesh, Work, "q", opts).double(4), { instanceOf: QueueFullError });
  // Once a runner drains the queue, jobs are accepted again.
  await mesh.host([Work], { jobs: false });
  const runner = await startJobRunner(mesh, [Work]);
  t.teardown(() => runner.stop());
  await eventually(
    async () => {
      try {
        await enqueue(mesh, Work, "q", opts).double(5);
        return true;
      } catch (err) {
        if (err instanceof QueueFullError) return false;
        throw err;
      }
    },
    20_000,
    "the queue has room again",
  );
  t.pass();
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
