/** Publish-subscribe against a real nats-server: fan-out, filters, start positions, dead letters. */
import test from "ava";
import { ConfigurationError } from "troupe";
import { deadLetters } from "../../runtime/jobs/index.js";
import { publish, subscribe } from "../../runtime/pubsub/index.js";
import { jetStreamQueues } from "../../runtime/transport/jetstream-queue.js";
import { exceptPlacementUpkeep, recordingLogger } from "../helpers/logger.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import {
  Analytics,
  BigOrders,
  Billing,
  Configured,
  deliveries,
  EuOrders,
  Fragile,
  FromAll,
  FromNew,
  Journal,
  journal,
  type Order,
  ofType,
  PaidBigOrders,
  Picky,
  Shipping,
  Sturdy,
  Ticker,
} from "./fixtures/actors.js";
import { counts, hostSubscribers } from "./helpers.js";

const ids = (type: string) => ofType(type).map((d) => d.eventId);
/** The distinct values, sorted: AVA's deepEqual compares Sets in insertion order, and delivery order varies. */
const distinct = (values: string[]) => [...new Set(values)].sort();
const firstDeliveries = (type: string) =>
  ofType(type)
    .filter((d) => d.attempt === 1)
    .map((d) => d.eventId);

test.serial("pubsub - fan-out: each of 3 subscriber types gets every event, once per type", async (t) => {
  const fx = await startMesh(t);
  const other = await fx.connectAnother();
  // Billing runs on two hosts: they compete within Billing's consumer.
  await hostSubscribers(t, fx.mesh, [Billing, Shipping, Analytics]);
  await hostSubscribers(t, other, [Billing]);
  const sent = Array.from({ length: 30 }, (_, i) => `o${i}`);
  for (const id of sent) {
    await publish(fx.mesh, "orders.created", { id, amount: 10 } satisfies Order, { msgId: id });
  }
  for (const type of ["Billing", "Shipping", "Analytics"]) {
    await eventually(() => new Set(ids(type)).size === sent.length, 30_000, `${type} got every event`);
  }
  for (const type of ["Billing", "Shipping", "Analytics"]) {
    // At-least-once: every event at least once; a first delivery happens exactly once per type
    // (a duplicate could only be a redelivery, which carries attempt > 1).
    t.deepEqual(distinct(ids(type)), distinct(sent), type);
    for (const [id, n] of counts(firstDeliveries(type))) t.is(n, 1, `${type} first delivery of ${id}`);
  }
  // Keyed events run on the actor named by the key; the stateful singleton on one id.
  t.true(ofType("Billing").every((d) => d.actorId === d.eventId));
  t.deepEqual(distinct(ofType("Analytics").map((d) => d.actorId)), ["onCreated"]);
  t.true(ofType("Shipping").every((d) => /^onCreated-\d+$/.test(d.actorId)));
});

test.serial("pubsub - a duplicate msgId within the window is stored once", async (t) => {
  const fx = await startMesh(t);
  const first = await publish(fx.mesh, "orders.created", { id: "d1", amount: 1 }, { msgId: "d1" });
  const again = await publish(fx.mesh, "orders.created", { id: "d1", amount: 1 }, { msgId: "d1" });
  t.false(first.duplicate);
  t.true(again.duplicate);
  t.is(again.seq, first.seq);
});

test.serial(
  "pubsub - wildcards filter on the server, predicates and expressions at the consumer",
  async (t) => {
    const fx = await startMesh(t);
    await hostSubscribers(t, fx.mesh, [EuOrders, BigOrders, PaidBigOrders, Configured], {
      filters: { "Configured.onAny": 'status in ["paid", "refunded"] && !(amount < 50)' },
    });
    const events: [string, Order][] = [
      ["orders.created.eu", { id: "a", amount: 500, status: "paid" }],
      ["orders.created.us", { id: "b", amount: 500, status: "open" }],
      ["orders.paid.eu", { id: "c", amount: 50, status: "paid" }],
      ["orders.created.eu.extra", { id: "d", amount: 101, status: "refunded" }],
      ["orders", { id: "e", amount: 1000, status: "paid" }],
      ["payments.created.eu", { id: "f", amount: 1000, status: "paid" }],
      ["orders.x", { id: "g", amount: 101, status: "paid" }],
      ["orders.refunds.eu", { id: "h", amount: 20, status: "refunded" }],
    ];
    for (const [topic, e] of events) await publish(fx.mesh, topic, e);
    // A last event every subscription sees, to know when the others were processed (in stream order).
    const last: Order = { id: "z", amount: 999, status: "paid" };
    await publish(fx.mesh, "orders.last.eu", last);
    for (const type of ["EuOrders", "BigOrders", "PaidBigOrders", "Configured"]) {
      await eventually(() => ids(type).includes("z"), 30_000, `${type} saw the last event`);
    }
    const seen = (type: string) => distinct(ids(type).filter((id) => id !== "z"));
    t.deepEqual(seen("EuOrders"), ["a", "c", "h"], "orders.*.eu");
    t.deepEqual(seen("BigOrders"), ["a", "b", "d", "g"], "orders.> with amount > 100");
    t.deepEqual(seen("PaidBigOrders"), ["a", "g"], 'amount > 100 && status == "paid"');
    t.deepEqual(seen("Configured"), ["a", "c", "d", "g"], "filter from configuration");
  },
);

test.serial("pubsub - a new subscriber type starts from now or from the beginning", async (t) => {
  const fx = await startMesh(t);
  for (let i = 0; i < 5; i++) await publish(fx.mesh, "ticks", { id: `before${i}`, amount: i });
  await hostSubscribers(t, fx.mesh, [FromNew, FromAll]);
  for (let i = 0; i < 5; i++) await publish(fx.mesh, "ticks", { id: `after${i}`, amount: i });
  await eventually(() => new Set(ids("FromAll")).size === 10, 30_000, "FromAll got 10");
  await eventually(() => new Set(ids("FromNew")).size >= 5, 30_000, "FromNew got 5");
  const q = jetStreamQueues(fx.mesh.transport);
  const prefix = fx.mesh.subjects.prefix;
  await eventually(async () => {
    const c = await q.consumerCounts(`${prefix}_events`, "FromNew_onTick");
    return c !== null && c.pending === 0 && c.ackPending === 0;
  });
  t.deepEqual(distinct(ids("FromNew")), distinct(Array.from({ length: 5 }, (_, i) => `after${i}`)));
  t.is(new Set(ids("FromAll")).size, 10);
});

test.serial("pubsub - a poison event dead-letters for the failing subscribers only", async (t) => {
  const fx = await startMesh(t);
  await hostSubscribers(t, fx.mesh, [Fragile, Picky, Sturdy], { maxAttempts: 5 });
  const sent = ["p1", "p2", "bad", "p3", "p4"];
  for (const id of sent) {
    await publish(fx.mesh, "payments.made", { id, amount: 1, poison: id === "bad" }, { msgId: id });
  }
  const dead = async (type: string) => {
    const out = [];
    for await (const e of deadLetters(fx.mesh, { type })) out.push(e);
    return out;
  };
  await eventually(async () => (await dead("Fragile")).length === 1, 30_000, "Fragile dead letter");
  await eventually(async () => (await dead("Picky")).length === 1, 30_000, "Picky dead letter");
  for (const type of ["Fragile", "Picky", "Sturdy"]) {
    await eventually(() => sent.every((id) => ids(type).includes(id)), 30_000, `${type} saw every event`);
  }
  const [fragile] = await dead("Fragile");
  const [picky] = await dead("Picky");
  t.is(fragile?.source, "event");
  t.is(fragile?.reason, "attempts-exhausted");
  t.is(fragile?.attempts, 3, "the subscription's maxAttempts");
  t.is(fragile?.method, "onPayment");
  t.is(fragile?.actorId, "bad");
  t.deepEqual(fragile?.subscription, {
    name: "Fragile_onPayment",
    pattern: "payments.>",
    topic: "payments.made",
  });
  t.truthy(fragile?.replay, "replayable as a job to this subscriber");
  t.is(picky?.reason, "terminal");
  t.is(picky?.attempts, 1);
  t.is(ofType("Fragile").filter((d) => d.eventId === "bad").length, 3);
  t.is(ofType("Picky").filter((d) => d.eventId === "bad").length, 1);
  t.deepEqual(await dead("Sturdy"), [], "the sturdy subscriber carried on");
  t.deepEqual(distinct(ids("Sturdy")), distinct(sent));
});

test.serial(
  "pubsub - ephemeral subscribers get events published while they listen (at-most-once)",
  async (t) => {
    const fx = await startMesh(t);
    await publish(fx.mesh, "prices.tea", { id: "early", amount: 1 }, { durable: false });
    await hostSubscribers(t, fx.mesh, [Ticker]);
    await fx.mesh.transport.flush();
    for (let i = 0; i < 10; i++)
      await publish(fx.mesh, "prices.tea", { id: `t${i}`, amount: i }, { durable: false });
    await publish(fx.mesh, "prices.coffee", { id: "durable", amount: 1 });
    await eventually(() => new Set(ids("Ticker")).size === 11, 30_000, "Ticker got 11");
    t.false(ids("Ticker").includes("early"));
    t.true(ofType("Ticker").every((d) => d.attempt === 1));
  },
);

test.serial("pubsub - an ordered subscriber handles one event at a time, in stream order", async (t) => {
  const log = recordingLogger();
  const fx = await startMesh(t, { logger: log.logger });
  await hostSubscribers(t, fx.mesh, [Journal]);
  const sent = 40;
  // Keys spread over many actors: without `ordered` these would run side by side.
  for (let i = 0; i < sent; i++) {
    await publish(fx.mesh, `journal.e${i % 7}`, { id: `k${i % 9}`, amount: i } satisfies Order);
  }
  await eventually(() => journal.seqs.length >= sent, 30_000, "every journal event handled");
  t.is(journal.maxRunning, 1, "never two at once");
  t.deepEqual(
    journal.seqs,
    [...journal.seqs].sort((a, b) => a - b),
    "handled in stream order",
  );
  t.deepEqual(
    exceptPlacementUpkeep(log.at("warn", "error")),
    [],
    "no failed pulls or other warnings on the way",
  );
});

test("pubsub - topics and patterns are validated", async (t) => {
  const fx = await startMesh(t);
  await t.throwsAsync(publish(fx.mesh, "orders.*", {}), { instanceOf: ConfigurationError });
  await t.throwsAsync(publish(fx.mesh, "orders..x", {}), { instanceOf: ConfigurationError });
  await t.throwsAsync(publish(fx.mesh, "orders.>", {}), { instanceOf: ConfigurationError });
  t.throws(() => subscribe("orders.>.x"), { instanceOf: ConfigurationError });
  t.throws(() => subscribe("orders", { filter: "amount >" }), { instanceOf: ConfigurationError });
  t.is(deliveries.length >= 0, true);
});
