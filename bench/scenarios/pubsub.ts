/**
 * Pub-sub fan-out: one durable publish stream, three subscribers that each get every event.
 *
 * - Troupe: `mesh.publish(FAN_TOPIC, payload)` (durable: resolves on the PubAck) from a publisher
 *   process; a host process hosts three actor types (`FanA`, `FanB`, `FanC`), each with
 *   `@subscribe(FAN_TOPIC, { key: e => e.id })` (64 ids), i.e. three durable pull consumers on the
 *   events stream, subscription capacity {@link CAPACITY}. Per event and subscriber the runtime
 *   decodes, runs the handler as a turn of the keyed actor (a call through nats-server) and acks
 *   (double ack).
 * - raw: `js.publish()` to a limits stream, and in another process three durable pull consumers on
 *   it, each `consume({ max_messages: CAPACITY })`, decoding every event and `ack()`ing it.
 *
 * Throughput = events delivered to all three subscribers per second (the receiver counts per
 * subscriber; an event counts once the slowest subscriber has seen it). Producers publish in
 * batches of {@link BATCH} awaited PubAcks, at most `flowWindow` events ahead (bench/lib/flow.ts).
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { pack, unpack } from "msgpackr";
import { FAN_TOPIC, FanA, FanB, FanC } from "../lib/actors.js";
import { Completions, type ReceiveResult, type SendResult, sendWindowed } from "../lib/flow.js";
import { flowSide } from "../lib/flow-side.js";
import type { CommandTable } from "../lib/ipc.js";
import { payloadFor } from "../lib/payload.js";
import { finishRow, type RowSpec } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { mesh, rawConnection } from "../lib/worker-env.js";

const RAW_STREAM = "BENCH_RAW_EVENTS";
const RAW_SUBJECT = "bench.rawevt.fan";
const ACK_SUBJECT = "bench.pubsub.ack";
const SUBSCRIBERS = 3;
const CAPACITY = 256;
const BATCH = 256;
const IDS = 64;

const ROW: RowSpec = {
  id: "pubsub.fanout3",
  title: "pub-sub fan-out, durable, 3 subscribers",
  target: { text: "ops ≥ 0.80× raw", metric: "opsRatio", limit: 0.8, direction: "min" },
};

type Impl = "troupe" | "raw";

async function run(ctx: BenchContext): Promise<void> {
  const { flowWindow } = ctx.settings;
  await ctx.withWorkers({ host: {}, subscriber: {}, publisher: {} }, async (w) => {
    const host = workerOf(w, "host");
    const subscriber = workerOf(w, "subscriber");
    const publisher = workerOf(w, "publisher");
    // The events stream must exist before the subscribers' consumers ("new" events only).
    await publisher.call("pubsub.prepare");
    await Promise.all([host.call("pubsub.hostTroupe"), subscriber.call("pubsub.serveRaw")]);
    let phase = 0;
    const measure = async (impl: Impl, ms: number) => {
      const receiver = impl === "troupe" ? host : subscriber;
      phase++;
      await receiver.call("pubsub.reset", { phase });
      const s = await publisher.call<SendResult>("pubsub.send", {
        impl,
        durationMs: ms,
        window: flowWindow,
        phase,
      });
      const r = await receiver.call<ReceiveResult>("pubsub.wait", { expected: s.sent });
      if (r.received < s.sent) {
        throw new Error(`${impl}: ${r.received} of ${s.sent} events reached all ${SUBSCRIBERS} subscribers`);
      }
      return { s, r };
    };
    const runners: SideRunner[] = (
      [
        ["troupe", "Troupe publish → 3 @subscribe types"],
        ["raw", "raw js.publish → 3 pull consumers (baseline)"],
      ] as const
    )
      .filter(([impl]) => ctx.wantsImpl(impl))
      .map(([impl, label]) =>
        flowSide(ctx, {
          rowId: ROW.id,
          label,
          impl,
          client: publisher,
          server: impl === "troupe" ? host : subscriber,
          measure: (ms) => measure(impl, ms),
          note: (_s, r) =>
            `${r.received.toLocaleString("en-US")} events × ${SUBSCRIBERS} deliveries, all delivered`,
        }),
      );
    const sides = await interleavedRounds(runners, ctx.settings.rounds);
    ctx.record(finishRow(ROW, sides));
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side: subscribers

const delivered = new Completions(ACK_SUBJECT);

async function hostTroupe(): Promise<void> {
  await delivered.open();
  FanA.onEvent = (lane) => delivered.hit(lane);
  await (await mesh()).host([FanA, FanB, FanC], {
    jobs: false,
    reminders: false,
    subscriptions: { capacity: CAPACITY },
  });
}

async function serveRaw(): Promise<void> {
  await delivered.open();
  const nc = await rawConnection("fast");
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: RAW_STREAM, subjects: [RAW_SUBJECT], storage: StorageType.File });
  const js = jetstream(nc);
  for (let lane = 0; lane < SUBSCRIBERS; lane++) {
    const durable = `sub${lane}`;
    await jsm.consumers.add(RAW_STREAM, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      max_ack_pending: 10_000,
    });
    const messages = await (await js.consumers.get(RAW_STREAM, durable)).consume({ max_messages: CAPACITY });
    void (async () => {
      for await (const m of messages) {
        unpack(m.data);
        delivered.hit(lane);
        m.ack();
      }
    })();
  }
}

// ---------------------------------------------------------------------------------------------
// Worker side: publisher

async function prepare(): Promise<void> {
  // Creates Troupe's events stream (a durable publish does) before its subscribers start.
  await (await mesh()).publish("bench.prepare", { ready: true });
}

async function send(a: {
  impl: Impl;
  durationMs: number;
  window: number;
  phase: number;
}): Promise<SendResult> {
  const payloads = Array.from({ length: IDS }, (_, i) => payloadFor(idOf("fan", i)));
  let sendOne: (i: number) => Promise<unknown>;
  if (a.impl === "troupe") {
    const m = await mesh();
    sendOne = (i) => m.publish(FAN_TOPIC, payloads[i % IDS]);
  } else {
    const js = jetstream(await rawConnection("fast"));
    sendOne = (i) => js.publish(RAW_SUBJECT, pack(payloads[i % IDS]));
  }
  return sendWindowed({
    durationMs: a.durationMs,
    window: a.window,
    batch: BATCH,
    phase: a.phase,
    ackSubject: ACK_SUBJECT,
    sendBatch: (from, n) => {
      const all: Promise<unknown>[] = [];
      for (let k = 0; k < n; k++) all.push(sendOne(from + k));
      return Promise.all(all);
    },
  });
}

export const pubsub: Scenario = {
  name: "pubsub",
  rows: [ROW],
  run,
  commands: {
    "pubsub.prepare": prepare,
    "pubsub.hostTroupe": hostTroupe,
    "pubsub.serveRaw": serveRaw,
    "pubsub.reset": (a: { phase: number }) => delivered.reset(a.phase, SUBSCRIBERS),
    "pubsub.wait": (a: { expected: number }) => delivered.wait(a.expected),
    "pubsub.send": send,
  } as CommandTable,
};
