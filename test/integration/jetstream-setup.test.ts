/**
 * Creating streams, consumers and buckets while JetStream is not answering, against a real
 * nats-server: a server frozen with SIGSTOP (its API requests time out) is waited for and the
 * stream, consumer and bucket are created once it wakes; a server that stays frozen, or has no
 * JetStream at all, ends in JetStreamUnavailableError at the deadline; a request JetStream answers
 * with an error fails at once, without retries.
 */
import { JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import test, { type ExecutionContext } from "ava";
import { JetStreamUnavailableError } from "troupe";
import type { NatsServer } from "troupe/testing";
import { openNatsConnection } from "../../runtime/transport/connection.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";

async function connectTo(t: ExecutionContext, server: NatsServer, setupDeadlineMs: number) {
  const log = recordingLogger();
  // A short API timeout keeps the frozen-server cases to a second or two.
  const transport = new NatsTransport(await openNatsConnection({ servers: server.url }), log.logger, {
    apiTimeoutMs: 300,
    setupDeadlineMs,
  });
  t.teardown(async () => {
    if (server.state === "paused") await server.kill("SIGCONT");
    await transport.close();
  });
  return { transport, log };
}

const stream = (name: string) => ({
  name,
  subjects: [`${name}.>`],
  retention: "workqueue" as const,
});

test("jetstream setup - a stream, consumer and bucket asked for while the server is frozen are created once it wakes", async (t) => {
  const server = await startServer(t);
  const { transport, log } = await connectTo(t, server, 30_000);
  const q = jetStreamQueues(transport);

  await server.kill("SIGSTOP");
  const created = Promise.all([
    q.ensureStream(stream("frozen")).then(() =>
      q.ensurePullConsumer({
        stream: "frozen",
        durable: "worker",
        filterSubject: "frozen.>",
        ackWaitMs: 30_000,
        maxAckPending: 10,
      }),
    ),
    transport.keyValue("frozen_kv"),
  ]);
  // Several API timeouts pass while the server sleeps: both the stream and the bucket were retried.
  const retriedFor = (what: string) =>
    log.at("warn").filter((w) => w.msg === "JetStream not ready, retrying" && w.fields?.what === what).length;
  await eventually(
    () => retriedFor("stream frozen") >= 1 && retriedFor("bucket frozen_kv") >= 1,
    25_000,
    "retries of the stream and the bucket",
  );
  await server.kill("SIGCONT");
  const [, bucket] = await created;

  const counts = await q.consumerCounts("frozen", "worker");
  t.is(counts?.pending, 0, "the consumer exists on the stream");
  const rev = await bucket.compareAndSet("k", new Uint8Array([1]), 0);
  t.true(rev > 0, "the bucket takes writes");
  const retried = log.at("warn").filter((w) => w.msg === "JetStream not ready, retrying");
  t.true(retried.length >= 2, `warned on each retry (${retried.length})`);
  t.truthy(retried.find((w) => w.fields?.what === "stream frozen"));
  t.truthy(retried.find((w) => w.fields?.what === "bucket frozen_kv"));
});

test("jetstream setup - listing a bucket's keys while the server is frozen waits for it, not a bare TimeoutError", async (t) => {
  const server = await startServer(t);
  const { transport, log } = await connectTo(t, server, 30_000);
  const bucket = await transport.keyValue("listed_kv");
  await bucket.compareAndSet("a", new Uint8Array([1]), 0);

  await server.kill("SIGSTOP");
  const listed = bucket.keys();
  await eventually(
    () =>
      log
        .at("warn")
        .some(
          (w) => w.msg === "JetStream not ready, retrying" && w.fields?.what === "bucket listed_kv (keys)",
        ),
    25_000,
    "a retry of the listing",
  );
  await server.kill("SIGCONT");
  t.deepEqual(await listed, ["a"]);
});

test("jetstream setup - listing a bucket whose stream is gone fails at once with JetStream's error, not a bare Error", async (t) => {
  const server = await startServer(t);
  const { transport, log } = await connectTo(t, server, 30_000);
  const bucket = await transport.keyValue("gone_kv");
  await bucket.compareAndSet("a", new Uint8Array([1]), 0);
  await (await jetstreamManager(transport.nc)).streams.delete("KV_gone_kv");

  const err = await t.throwsAsync(bucket.keys());
  t.true(err instanceof JetStreamApiError, `got ${err?.name}: ${err?.message}`);
  t.is((err as JetStreamApiError).code, 10059, "stream not found");
  t.regex(err?.message ?? "", /listing bucket gone_kv/);
  t.deepEqual(log.at("warn", "error"), [], "not retried as if JetStream were not ready");
});

test("jetstream setup - a server that stays frozen ends in JetStreamUnavailableError at the deadline", async (t) => {
  const server = await startServer(t);
  const { transport } = await connectTo(t, server, 1_500);
  await server.kill("SIGSTOP");
  const err = await t.throwsAsync(jetStreamQueues(transport).ensureStream(stream("never")));
  t.true(err instanceof JetStreamUnavailableError, `got ${err?.name}: ${err?.message}`);
  const typed = err as JetStreamUnavailableError;
  t.is(typed.code, "TROUPE_JETSTREAM_UNAVAILABLE");
  t.is(typed.details?.what, "stream never");
  t.true((typed.details?.attempts as number) >= 2, "it retried before giving up");
  t.regex(typed.message, /stream never/);
});

test("jetstream setup - a server without JetStream ends in JetStreamUnavailableError that says so", async (t) => {
  const server = await startServer(t, { jetstream: false });
  const { transport } = await connectTo(t, server, 1_000);
  const err = await t.throwsAsync(jetStreamQueues(transport).ensureStream(stream("nojs")));
  t.true(err instanceof JetStreamUnavailableError, `got ${err?.name}: ${err?.message}`);
  t.regex(err?.message ?? "", /JetStream/);
});

test("jetstream setup - an error JetStream answers with fails at once, without retrying", async (t) => {
  const server = await startServer(t);
  const { transport, log } = await connectTo(t, server, 30_000);
  const q = jetStreamQueues(transport);
  await q.ensureStream(stream("first"));
  // Same subjects under another name: the server refuses (subjects overlap).
  const err = await t.throwsAsync(q.ensureStream({ ...stream("second"), subjects: ["first.>"] }));
  t.false(err instanceof JetStreamUnavailableError, `got ${err?.name}: ${err?.message}`);
  t.deepEqual(log.at("warn", "error"), []);
});
