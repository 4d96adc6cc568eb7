/**
 * The pull loop shared by job runners, durable subscribers and reminder runners, against a real
 * nats-server: a message the server redelivers while its first delivery is still being handled in
 * this process (its in-progress acks came too late) is not handled a second time, and the first
 * delivery's ack settles it for good.
 */
import test from "ava";
import { consoleLogger } from "troupe";
import { PullLoop } from "../../runtime/durable/index.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("pull loop - a redelivery of a message still being handled here is not handled twice", async (t) => {
  const server = await startServer(t);
  const transport = await NatsTransport.connect({ servers: server.url }, consoleLogger("silent"));
  t.teardown(() => transport.close());
  const q = jetStreamQueues(transport);
  const ackWaitMs = 1000;
  await q.ensureStream({ name: "pl", subjects: ["pl.>"], retention: "workqueue" });
  await q.ensurePullConsumer({
    stream: "pl",
    durable: "w",
    filterSubject: "pl.>",
    ackWaitMs,
    maxAckPending: 100,
  });
  await q.publish("pl.job", new Uint8Array([1]));

  const log = recordingLogger();
  const redeliverySeen = () =>
    log.at("warn").some((e) => e.msg.includes("redelivered while still being handled"));
  const handled: number[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const loop = new PullLoop(q, log.logger, {
    stream: "pl",
    durable: "w",
    capacity: 4,
    pullExpiresMs: 1000,
    ackWaitMs,
    handle: async (m) => {
      handled.push(m.deliveryCount);
      // Blocks this process's event loop past AckWait: no in-progress ack can go out, so the
      // server redelivers. Then the handler goes on until the loop has received the redelivery
      // (it logs it, or, without the guard, handles it), at most 10 s.
      const until = performance.now() + 2.5 * ackWaitMs;
      while (performance.now() < until) {
        // busy
      }
      const giveUpAt = performance.now() + 10_000;
      while (!redeliverySeen() && handled.length === 1 && performance.now() < giveUpAt) await sleep(50);
      m.ack();
      done();
    },
  });
  loop.start();
  t.teardown(() => loop.stop(1000));
  await finished;
  // Well past AckWait after the ack: had the ack of the first delivery not settled the message,
  // the server would deliver it again by now.
  await sleep(3 * ackWaitMs);
  t.deepEqual(handled, [1], "handled once");
  t.true(redeliverySeen(), "the redelivery was seen and logged");
  const counts = await q.consumerCounts("pl", "w");
  t.is(counts?.pending, 0);
  t.is(counts?.ackPending, 0);
});
