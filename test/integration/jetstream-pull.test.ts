/**
 * The JetStream pull protocol spoken by runtime/transport/jetstream-pull.ts, against a real
 * nats-server: a pull never delivers more than it asked for, it ends when its messages arrived or
 * when the server expires it, settles reach the server, and a pull on a missing consumer ends
 * with a PullError instead of hanging.
 */
import test from "ava";
import { consoleLogger } from "troupe";
import {
  jetStreamQueues,
  type PullError,
  type QueueMessage,
} from "../../runtime/transport/jetstream-queue.js";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";

const STREAM = "PULLTEST";
const enc = new TextEncoder();

async function setup(t: import("ava").ExecutionContext) {
  const server = await startServer(t);
  const transport = await NatsTransport.connect({ servers: server.url }, consoleLogger("silent"));
  t.teardown(() => transport.close());
  const q = jetStreamQueues(transport);
  await q.ensureStream({ name: STREAM, subjects: ["pt.>"], retention: "workqueue" });
  await q.ensurePullConsumer({
    stream: STREAM,
    durable: "c",
    filterSubject: "pt.>",
    ackWaitMs: 30_000,
    maxAckPending: 1000,
  });
  return { q };
}

function recorder() {
  const got: QueueMessage[] = [];
  const ends: (PullError | undefined)[] = [];
  return {
    got,
    ends,
    listener: { message: (m: QueueMessage) => got.push(m), ended: (e?: PullError) => ends.push(e) },
  };
}

test("pull - a pull delivers at most what it asked for and ends once those arrived", async (t) => {
  const { q } = await setup(t);
  for (let i = 0; i < 10; i++) await q.publish(`pt.${i}`, enc.encode(`m${i}`));
  const r = recorder();
  const puller = q.puller(STREAM, "c", r.listener);
  t.teardown(() => puller.close());
  puller.pull(3, 5000);
  await eventually(() => r.ends.length === 1, 5000, "the first pull to end");
  t.is(r.got.length, 3);
  t.is(r.ends[0], undefined, "a fulfilled pull is a normal end");
  t.false(puller.pulling);
  t.deepEqual(
    r.got.map((m) => [m.subject, m.streamSeq, m.deliveryCount]),
    [
      ["pt.0", 1, 1],
      ["pt.1", 2, 1],
      ["pt.2", 3, 1],
    ],
  );
  t.true(r.got.every((m) => m.storedAtMs > Date.now() - 60_000 && m.storedAtMs <= Date.now() + 1000));
  // Asking for more than there is: the 7 left arrive, then the server expires the pull.
  puller.pull(20, 1000);
  await eventually(() => r.ends.length === 2, 10_000, "the second pull to expire");
  t.is(r.got.length, 10);
  t.is(r.ends[1], undefined, "an expired pull is a normal end");
});

test("pull - ack removes, nak with a delay redelivers with a higher delivery count, term never redelivers", async (t) => {
  const { q } = await setup(t);
  for (let i = 0; i < 3; i++) await q.publish(`pt.${i}`, enc.encode(`m${i}`));
  const r = recorder();
  const puller = q.puller(STREAM, "c", r.listener);
  t.teardown(() => puller.close());
  puller.pull(3, 2000);
  await eventually(() => r.got.length === 3, 5000, "three messages");
  const [a, b, c] = r.got as [QueueMessage, QueueMessage, QueueMessage];
  a.ack();
  b.nak(200);
  c.term();
  await eventually(() => r.ends.length === 1, 5000, "the pull to end");
  puller.pull(5, 2000);
  await eventually(() => r.ends.length === 2, 10_000, "the second pull to expire");
  t.deepEqual(
    r.got.slice(3).map((m) => [m.subject, m.deliveryCount]),
    [["pt.1", 2]],
    "only the nak'ed message came back",
  );
  (r.got[3] as QueueMessage).ack();
  await eventually(
    // The termed message may stay in the work queue or not, depending on the server version.
    async () => ((await q.streamCounts(STREAM))?.messages ?? 99) <= 1,
    5000,
    "acks to remove messages",
  );
});

test("pull - a pull on a consumer that does not exist ends with a PullError", async (t) => {
  const { q } = await setup(t);
  const r = recorder();
  const puller = q.puller(STREAM, "missing", r.listener);
  t.teardown(() => puller.close());
  puller.pull(1, 1000);
  await eventually(() => r.ends.length === 1, 10_000, "the pull to end");
  t.truthy(r.ends[0], "an error, not a normal end");
  t.is(r.ends[0]?.name, "PullError");
  t.is(r.got.length, 0);
});

test("pull - only one pull is outstanding at a time", async (t) => {
  const { q } = await setup(t);
  const r = recorder();
  const puller = q.puller(STREAM, "c", r.listener);
  t.teardown(() => puller.close());
  puller.pull(1, 1000);
  t.throws(() => puller.pull(1, 1000), { message: /already outstanding/ });
});
