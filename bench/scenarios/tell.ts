/**
 * Fire-and-forget throughput: Troupe `ref.tell.hit(payload)` to 64 `Sink` actors vs raw
 * `nc.publish(subject, pack(payload))` to one subscriber that decodes every message.
 *
 * Throughput is what the receiver sees: messages received / time from its first to its last
 * message. Both senders use the same flow control (at most `tellWindow` messages not yet counted by
 * the receiver, which reports its count every {@link ACK_EVERY} messages on a control connection),
 * so neither side overruns the server's slow-consumer limit and drops messages.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { pack, unpack } from "msgpackr";
import { Sink } from "../lib/actors.js";
import { flowSide } from "../lib/flow-side.js";
import type { CommandTable } from "../lib/ipc.js";
import { type Payload, payloadFor } from "../lib/payload.js";
import { finishRow, type RowSpec } from "../lib/report.js";
import { interleavedRounds, type SideRunner } from "../lib/rounds.js";
import { type BenchContext, idOf, type Scenario, workerOf } from "../lib/scenario.js";
import { mesh, rawConnection } from "../lib/worker-env.js";

const RAW_SUBJECT = "bench.tell.raw";
const ACK_SUBJECT = "bench.tell.ack";
const ACK_EVERY = 500;
const ACTORS = 64;
/** Messages sent between two yields to the event loop (lets nats.js write and read acks). */
const BATCH = 256;

const ROW: RowSpec = { id: "tell", title: "tell (fire-and-forget) vs publish" };

interface SendArgs {
  impl: "troupe" | "raw";
  durationMs: number;
  window: number;
  phase: number;
}
interface SendResult {
  sent: number;
  elapsedMs: number;
}
interface ReceiveResult {
  received: number;
  /** Receiver time between first and last message. */
  spanMs: number;
}

async function run(ctx: BenchContext): Promise<void> {
  const { tellWindow } = ctx.settings;
  await ctx.withWorkers({ host: {}, subscriber: {}, sender: {} }, async (w) => {
    const host = workerOf(w, "host");
    const subscriber = workerOf(w, "subscriber");
    const sender = workerOf(w, "sender");
    await Promise.all([
      host.call("host", { types: ["Sink"] }).then(() => host.call("tell.receiveTroupe")),
      subscriber.call("tell.receiveRaw"),
    ]);
    let phase = 0;
    const measure = async (impl: "troupe" | "raw", ms: number) => {
      const receiver = impl === "troupe" ? host : subscriber;
      phase++;
      await receiver.call("tell.reset", { phase });
      const s = await sender.call<SendResult>("tell.send", {
        impl,
        durationMs: ms,
        window: tellWindow,
        phase,
      });
      const r = await receiver.call<ReceiveResult>("tell.wait", { expected: s.sent });
      return { s, r };
    };
    const runners: SideRunner[] = (
      [
        ["troupe", "Troupe tell"],
        ["raw", "raw publish (baseline)"],
      ] as const
    )
      .filter(([impl]) => ctx.wantsImpl(impl))
      .map(([impl, label]) =>
        flowSide(ctx, {
          rowId: ROW.id,
          label,
          impl,
          client: sender,
          server: impl === "troupe" ? host : subscriber,
          measure: (ms) => measure(impl, ms),
          verify: (s, r) => {
            // Flow control keeps both sides far from the slow-consumer limit: a loss is a bug.
            if (r.received < s.sent) {
              throw new Error(`${label}: the receiver got ${r.received} of ${s.sent} messages`);
            }
          },
          note: (s, r) =>
            `received ${r.received.toLocaleString("en-US")} of ${s.sent.toLocaleString("en-US")} (${((100 * r.received) / s.sent).toFixed(1)}%)`,
        }),
      );
    const sides = await interleavedRounds(runners, ctx.settings.rounds);
    ctx.record(finishRow(ROW, sides));
  });
}

// ---------------------------------------------------------------------------------------------
// Worker side: receiving (Troupe host or raw subscriber)

const recv = { phase: 0, count: 0, firstAt: 0, lastAt: 0 };
let control: NatsConnection | undefined;

function hit(): void {
  const now = performance.now();
  if (recv.count === 0) recv.firstAt = now;
  recv.lastAt = now;
  if (++recv.count % ACK_EVERY === 0) control?.publish(ACK_SUBJECT, pack([recv.phase, recv.count]));
}

async function receiveTroupe(): Promise<void> {
  control = await rawConnection("control");
  Sink.onHit = hit;
}

async function receiveRaw(): Promise<void> {
  control = await rawConnection("control");
  const nc = await rawConnection("fast");
  nc.subscribe(RAW_SUBJECT, {
    callback: (_err, msg) => {
      unpack(msg.data);
      hit();
    },
  });
  await nc.flush();
}

function reset(a: { phase: number }): void {
  recv.phase = a.phase;
  recv.count = 0;
  recv.firstAt = 0;
  recv.lastAt = 0;
}

/** Resolves once `expected` messages arrived, or nothing arrived for 2 s (then reports the shortfall). */
async function wait(a: { expected: number }): Promise<ReceiveResult> {
  let last = recv.count;
  let idleSince = performance.now();
  while (recv.count < a.expected) {
    await new Promise((r) => setTimeout(r, 5));
    if (recv.count !== last) {
      last = recv.count;
      idleSince = performance.now();
    } else if (performance.now() - idleSince > 2_000) break;
  }
  return { received: recv.count, spanMs: recv.lastAt - recv.firstAt };
}

// ---------------------------------------------------------------------------------------------
// Worker side: sending

async function send(a: SendArgs): Promise<SendResult> {
  const ids = Array.from({ length: ACTORS }, (_, i) => idOf("sink", i));
  const payloads = ids.map(payloadFor);
  let sendOne: (i: number) => void;
  let flush: () => Promise<void>;
  if (a.impl === "troupe") {
    const m = await mesh();
    const tells = ids.map((id) => m.ref(Sink, id).tell);
    sendOne = (i) => (tells[i % ACTORS] as (typeof tells)[0]).hit(payloads[i % ACTORS] as Payload);
    flush = () => m.transport.flush();
  } else {
    const nc = await rawConnection("fast");
    sendOne = (i) => nc.publish(RAW_SUBJECT, pack(payloads[i % ACTORS]));
    flush = () => nc.flush();
  }

  const ctl = await rawConnection("control");
  let acked = 0;
  let wake: (() => void) | undefined;
  const sub = ctl.subscribe(ACK_SUBJECT, {
    callback: (_err, msg) => {
      const [phase, count] = unpack(msg.data) as [number, number];
      if (phase === a.phase && count > acked) {
        acked = count;
        wake?.();
      }
    },
  });
  await ctl.flush();

  const start = performance.now();
  const end = start + a.durationMs;
  let sent = 0;
  let stalledSince = 0;
  while (performance.now() < end) {
    const room = a.window - (sent - acked);
    if (room <= 0) {
      const before = acked;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
      wake = undefined;
      if (acked === before) {
        stalledSince ||= performance.now();
        if (performance.now() - stalledSince > 10_000) {
          throw new Error(`receiver stalled: ${acked} of ${sent} counted after 10 s`);
        }
      } else stalledSince = 0;
      continue;
    }
    const n = Math.min(room, BATCH);
    for (let k = 0; k < n; k++) sendOne(sent + k);
    sent += n;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await flush();
  const elapsedMs = performance.now() - start;
  sub.unsubscribe();
  return { sent, elapsedMs };
}

export const tell: Scenario = {
  name: "tell",
  rows: [ROW],
  run,
  commands: {
    "tell.receiveTroupe": receiveTroupe,
    "tell.receiveRaw": receiveRaw,
    "tell.reset": reset,
    "tell.wait": wait,
    "tell.send": send,
  } as CommandTable,
};
