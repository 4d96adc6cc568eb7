/**
 * Keepalives for the calls a host has accepted and not answered yet (queued or running).
 *
 * A caller waiting on a long call cannot tell a host that is still working from one that died,
 * was paused or was cut off: without word it would wait for the call's whole deadline (a job's
 * turn: 15 minutes by default). So every `everyMs` the host sends each such call's reply subject a
 * keepalive (`encodeKeepalive`), and the caller gives up with `HostUnresponsiveError` once its host
 * has said nothing for its `keepaliveTimeoutMs` (see `NatsTransport.request`).
 *
 * The calls are kept in an intrusive list ordered by when each last got word from us (accepted, or
 * its last keepalive), so accepting and answering a call cost a few field writes, and a tick only
 * visits the calls that are due: it sends, moves them to the tail, and stops at the first that is not.
 */
import type { Logger } from "../log.js";
import { encodeKeepalive } from "../messaging/index.js";

export const DEFAULT_KEEPALIVE_EVERY_MS = 2_000;

/**
 * A call the host owes a reply, linked into {@link CallKeepalives} while it does. The links are
 * fields of the call object itself (a turn), so listing a call allocates nothing.
 */
export interface AwaitedCall {
  prevAwaited: AwaitedCall | undefined;
  nextAwaited: AwaitedCall | undefined;
  /** `performance.now()` when it was accepted or last sent a keepalive; -1 while unlisted. */
  spokeAt: number;
  /** Where its reply (and its keepalives) go. */
  readonly replyTo: string | undefined;
  /** `performance.now()` after which its caller no longer waits: no keepalive is sent after it. */
  readonly deadline: number;
}

export class CallKeepalives {
  private head: AwaitedCall | undefined;
  private tail: AwaitedCall | undefined;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly bytes: Uint8Array;

  constructor(
    readonly everyMs: number,
    /** Sends a keepalive; returns false when nothing can be sent (the connection is closed). */
    private readonly send: (replyTo: string, data: Uint8Array) => boolean,
    private readonly logger: Logger,
  ) {
    this.bytes = encodeKeepalive(everyMs);
  }

  /** Calls accepted and not answered yet. */
  get size(): number {
    return this.count;
  }

  /** Starts sending keepalives (a tick every half interval, so none is more than 1.5 intervals late). */
  start(): void {
    this.timer ??= setInterval(() => this.tick(performance.now()), Math.max(1, this.everyMs / 2)).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A call was accepted at `now`: it gets keepalives until {@link remove}. */
  add(call: AwaitedCall, now: number): void {
    call.spokeAt = now;
    this.append(call);
    this.count++;
  }

  /** The call was answered (or refused): no more keepalives. */
  remove(call: AwaitedCall): void {
    if (call.spokeAt < 0) return;
    this.unlink(call);
    call.spokeAt = -1;
    this.count--;
  }

  /**
   * Sends a keepalive to every call that got no word from this host for `everyMs`. A call whose
   * deadline passed leaves the list: its caller gave up (a handler may run on regardless).
   */
  tick(now: number): void {
    const due = now - this.everyMs;
    let failed = 0;
    let unsent: unknown;
    for (let call = this.head; call !== undefined && call.spokeAt <= due; call = this.head) {
      if (call.deadline < now) {
        this.remove(call);
        continue;
      }
      this.unlink(call);
      call.spokeAt = now;
      this.append(call);
      if (!call.replyTo) continue;
      try {
        if (!this.send(call.replyTo, this.bytes)) return; // closed: nobody to tell anything
      } catch (err) {
        failed++;
        unsent = err;
      }
    }
    if (failed > 0) this.logger.warn("call keepalives could not be sent", { failed, err: unsent });
  }

  private append(call: AwaitedCall): void {
    call.prevAwaited = this.tail;
    call.nextAwaited = undefined;
    if (this.tail) this.tail.nextAwaited = call;
    else this.head = call;
    this.tail = call;
  }

  private unlink(call: AwaitedCall): void {
    const { prevAwaited: prev, nextAwaited: next } = call;
    if (prev) prev.nextAwaited = next;
    else this.head = next;
    if (next) next.prevAwaited = prev;
    else this.tail = prev;
    call.prevAwaited = undefined;
    call.nextAwaited = undefined;
  }
}
