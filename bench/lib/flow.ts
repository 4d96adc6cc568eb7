/**
 * Flow control for the throughput rows whose work finishes in another process (durable jobs,
 * pub-sub fan-out): the receiver counts completions and reports its count on a control connection
 * every {@link ACK_EVERY} completions; the sender keeps at most `window` operations not yet
 * counted, and sends in batches it awaits (e.g. `Promise.all` of a batch of PubAcks). Throughput
 * is what the receiver sees: completions / time from its first to its last completion.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { pack, unpack } from "msgpackr";
import { rawConnection } from "./worker-env.js";

export const ACK_EVERY = 200;

export interface ReceiveResult {
  received: number;
  /** Receiver time between first and last completion. */
  spanMs: number;
}

export interface SendResult {
  sent: number;
  elapsedMs: number;
}

/**
 * Receiver side. With `lanes` > 1 (fan-out to several subscribers), an operation is complete once
 * every lane has seen it: the count is the smallest lane count.
 */
export class Completions {
  private phase = 0;
  private counts: number[] = [0];
  private count = 0;
  private firstAt = 0;
  private lastAt = 0;
  private control: NatsConnection | undefined;

  constructor(private readonly ackSubject: string) {}

  async open(): Promise<void> {
    this.control = await rawConnection("control");
  }

  reset(phase: number, lanes = 1): void {
    this.phase = phase;
    this.counts = new Array<number>(lanes).fill(0);
    this.count = 0;
    this.firstAt = 0;
    this.lastAt = 0;
  }

  /** One completion on `lane`. */
  hit(lane = 0): void {
    const c = this.counts;
    const n = (c[lane] ?? 0) + 1;
    c[lane] = n;
    if (this.firstAt === 0) this.firstAt = performance.now();
    if (n <= this.count) return;
    let min = n;
    for (let i = 0; i < c.length; i++) if ((c[i] as number) < min) min = c[i] as number;
    if (min === this.count) return;
    this.count = min;
    this.lastAt = performance.now();
    if (min % ACK_EVERY === 0) this.control?.publish(this.ackSubject, pack([this.phase, min]));
  }

  /** Resolves once `expected` completed, or nothing completed for 3 s. */
  async wait(expected: number): Promise<ReceiveResult> {
    let last = this.count;
    let idleSince = performance.now();
    while (this.count < expected) {
      await new Promise((r) => setTimeout(r, 5));
      if (this.count !== last) {
        last = this.count;
        idleSince = performance.now();
      } else if (performance.now() - idleSince > 3_000) break;
    }
    return { received: this.count, spanMs: this.lastAt - this.firstAt };
  }
}

export interface SendOptions {
  durationMs: number;
  /** Most operations sent and not yet counted by the receiver. */
  window: number;
  /** Operations per awaited batch. */
  batch: number;
  phase: number;
  ackSubject: string;
  /** Sends operations `from` .. `from + n - 1` and resolves when they are accepted (e.g. PubAcks). */
  sendBatch(from: number, n: number): Promise<unknown>;
}

/** Sender side: batches for `durationMs`, never more than `window` ahead of the receiver. */
export async function sendWindowed(o: SendOptions): Promise<SendResult> {
  const ctl = await rawConnection("control");
  let acked = 0;
  let wake: (() => void) | undefined;
  const sub = ctl.subscribe(o.ackSubject, {
    callback: (_err, msg) => {
      const [phase, count] = unpack(msg.data) as [number, number];
      if (phase === o.phase && count > acked) {
        acked = count;
        wake?.();
      }
    },
  });
  await ctl.flush();
  const start = performance.now();
  const end = start + o.durationMs;
  let sent = 0;
  let stalledSince = 0;
  try {
    while (performance.now() < end) {
      const room = o.window - (sent - acked);
      if (room < o.batch) {
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
      await o.sendBatch(sent, o.batch);
      sent += o.batch;
    }
  } finally {
    sub.unsubscribe();
  }
  return { sent, elapsedMs: performance.now() - start };
}
