/**
 * Dead letters of jobs close to the server's max_payload, on a real nats-server with a 16 KiB
 * limit: a record that would not fit with the error's stack, details and full message is stored
 * without them (listed in `omitted`) and with the original bytes intact; a job so large that no
 * dead letter fits around it stays in the queue, reported, instead of being acked away.
 */
import test, { type ExecutionContext } from "ava";
import { connect } from "troupe";
import { deadLetters, enqueue, startJobRunner } from "../../runtime/jobs/index.js";
import { namesOf } from "../../runtime/jobs/streams.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";
import { seen, Work } from "./fixtures/actors.js";
import { FAST_RETRY } from "./helpers.js";

const MAX_PAYLOAD = 16 * 1024;

test.beforeEach(() => seen.reset());

async function setup(t: ExecutionContext) {
  const server = await startServer(t, { maxPayload: MAX_PAYLOAD });
  const log = recordingLogger();
  const mesh = await connect({ servers: server.url, prefix: `dlqsize${process.pid}`, logger: log.logger });
  t.teardown(() => mesh.close());
  await mesh.host([Work], { jobs: false });
  const runner = await startJobRunner(mesh, [Work], { ...FAST_RETRY, maxAttempts: 2 });
  t.teardown(() => runner.stop());
  return { mesh, errors: () => log.at("error") };
}

test.serial(
  "dlq size - a dead letter that would not fit cuts the error message, never the job",
  async (t) => {
    const { mesh } = await setup(t);
    // The error message repeats the 9,000-character tag: job + message is over 16 KiB.
    const tag = "x".repeat(9_000);
    const job = await enqueue(mesh, Work, "big", { keepResult: false }).poison(tag);
    await eventually(async () => (await collectDead(mesh)).length === 1, 20_000, "the dead letter");
    const [entry] = await collectDead(mesh);
    t.is(entry?.jobId, job.id);
    // A handler's error crosses as ActorMethodError: no stack in the record, its small details kept.
    t.deepEqual(entry?.omitted, ["error.message past 1024 characters"]);
    t.is(entry?.error.code, "TROUPE_ACTOR_METHOD_FAILED");
    t.is(entry?.error.details?.remoteName, "RangeError");
    t.true((entry?.error.message.length ?? 0) <= 1025);
    t.true(entry?.error.message.startsWith("poison xxx"));
    t.true((entry?.data.length ?? 0) > 9_000, "the original job bytes are all there, for a replay");
    const counts = await jetStreamQueues(mesh.transport).streamCounts(namesOf(mesh).jobsStream("Work"));
    t.is(counts?.messages, 0, "the job left the work queue only once its dead letter was stored");
  },
);

test.serial(
  "dlq size - a job too large for any dead letter around it stays in the queue, reported",
  async (t) => {
    const { mesh, errors } = await setup(t);
    // The job itself fits (just under 16 KiB); no record carrying it and an error can.
    const job = await enqueue(mesh, Work, "huge", { keepResult: false }).poison(
      "y".repeat(MAX_PAYLOAD - 400),
    );
    await eventually(
      () => errors().some((e) => e.msg.startsWith("a job too large to dead-letter stays in the queue")),
      20_000,
      "the report",
    );
    const report = errors().find((e) => e.msg.startsWith("a job too large to dead-letter"));
    t.is(report?.fields?.jobId, job.id);
    const counts = await jetStreamQueues(mesh.transport).streamCounts(namesOf(mesh).jobsStream("Work"));
    t.is(counts?.messages, 1, "not acked away");
    t.deepEqual(await collectDead(mesh), []);
  },
);

async function collectDead(mesh: Parameters<typeof deadLetters>[0]) {
  const out = [];
  for await (const d of deadLetters(mesh, { type: "Work" })) out.push(d);
  return out;
}
