/**
 * The requests of one connection waiting for their reply (see nats-transport.ts), by sequence
 * number. Deadlines and silence: instead of a timer per request, one sweep timer armed for the
 * earliest moment a pending request could fail. A responder's keepalive extends how long its
 * request may stay silent.
 */
import { ConnectionClosedError, DeadlineExceededError, HostUnresponsiveError } from "../errors.js";
import { keepaliveEveryMs } from "../messaging/index.js";
import type { ReceivedHeaders } from "./headers.js";
import { outcomeOf } from "./nats-message.js";
import type { RequestOutcome } from "./transport.js";

export interface PendingRequest {
  resolve(outcome: RequestOutcome): void;
  reject(err: Error): void;
  /** `performance.now()` after which the caller gets DeadlineExceededError. */
  deadline: number;
  subject: string;
  timeoutMs: number;
  /** `performance.now()` when the request was sent or its responder last sent a keepalive. */
  heardAt: number;
  /** The caller gets HostUnresponsiveError after this long without a word (Infinity: never). */
  silenceMs: number;
}

/** A keepalive may come this many announced intervals late before its host counts as silent. */
const KEEPALIVE_TOLERANCE = 3;

export class PendingRequests {
  private readonly pending = new Map<number, PendingRequest>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;

  /** The request waiting under `id`, if any. */
  get(id: number): PendingRequest | undefined {
    return this.pending.get(id);
  }

  /**
   * Registers request `id` as waiting for its reply until `timeoutMs` from now, or until its
   * responder has said nothing (no reply, no keepalive) for `silenceMs`.
   */
  add(
    id: number,
    subject: string,
    timeoutMs: number,
    silenceMs: number,
    resolve: (outcome: RequestOutcome) => void,
    reject: (err: Error) => void,
  ): void {
    const now = performance.now();
    const p = { resolve, reject, deadline: now + timeoutMs, subject, timeoutMs, heardAt: now, silenceMs };
    this.pending.set(id, p);
    this.armSweepBy(checkAtOf(p));
  }

  /** Arms the sweep for `at` unless it is already armed for earlier. */
  private armSweepBy(at: number): void {
    if (at < this.sweepAt) this.armSweep(at);
  }

  /**
   * Deadlines: instead of a timer per request, one timer armed for the earliest moment a pending
   * request could fail (its deadline, or the end of its responder's allowed silence). When it fires
   * it fails every expired request and re-arms for the next earliest. Requests with the same
   * timeout expire in the order they were made, so it rarely needs re-arming early.
   */
  private armSweep(at: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, at - performance.now()));
  }

  private sweep(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    let silent: number[] | undefined;
    for (const [id, p] of this.pending) {
      if (p.deadline <= now + 1) {
        this.pending.delete(id);
        p.reject(
          new DeadlineExceededError(`no reply on ${p.subject} within ${p.timeoutMs} ms`, {
            details: { subject: p.subject, timeoutMs: p.timeoutMs },
          }),
        );
        continue;
      }
      if (p.heardAt + p.silenceMs <= now + 1) {
        silent ??= [];
        silent.push(id);
      } else next = Math.min(next, checkAtOf(p));
    }
    if (silent) {
      // This process may itself have been busy (a long callback): keepalives can be waiting in
      // the socket, and the event loop runs overdue timers before it polls again. Judge in the
      // next check phase, which comes after that poll.
      const ids = silent;
      setImmediate(() => this.failSilent(ids));
    }
    if (next !== Number.POSITIVE_INFINITY) this.armSweep(next);
  }

  /** Fails the requests of `ids` whose responder is still silent; re-arms for those that spoke. */
  private failSilent(ids: number[]): void {
    const now = performance.now();
    for (const id of ids) {
      const p = this.pending.get(id);
      if (!p) continue;
      if (p.heardAt + p.silenceMs > now + 1) {
        this.armSweepBy(checkAtOf(p));
        continue;
      }
      this.forget(id);
      const silentMs = Math.round(now - p.heardAt);
      p.reject(
        new HostUnresponsiveError(
          `no reply and no keepalive on ${p.subject} for ${silentMs} ms: its host may have died, been ` +
            "paused or cut off; the call may or may not have run",
          { details: { subject: p.subject, silentMs, timeoutMs: p.timeoutMs } },
        ),
      );
    }
  }

  /** Drops a pending request; with nothing pending, the deadline timer must not keep the process alive. */
  forget(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0 && this.sweepTimer) {
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
      this.sweepAt = Number.POSITIVE_INFINITY;
    }
  }

  /** A message on the inbox for request `id`: a keepalive (the responder is still on it) or its reply. */
  settle(id: number, data: Uint8Array, h: ReceivedHeaders | undefined): void {
    const waiting = this.pending.get(id);
    if (!waiting) return; // the caller gave up (deadline) before the reply came
    const everyMs = keepaliveEveryMs(data);
    if (everyMs > 0) {
      // Not the reply: the responder is still on it. Trust its word for as long as it says.
      waiting.heardAt = performance.now();
      if (waiting.silenceMs < KEEPALIVE_TOLERANCE * everyMs)
        waiting.silenceMs = KEEPALIVE_TOLERANCE * everyMs;
      return;
    }
    this.forget(id);
    waiting.resolve(outcomeOf(data, h));
  }

  /** Fails every waiting request: the connection closed. */
  failAll(): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new ConnectionClosedError(`connection closed while waiting for a reply on ${p.subject}`));
    }
  }
}

/** The earliest moment a pending request can fail: its deadline, or the end of its allowed silence. */
function checkAtOf(p: PendingRequest): number {
  return Math.min(p.heardAt + p.silenceMs, p.deadline);
}
