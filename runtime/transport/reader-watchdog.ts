/**
 * Notices a connection whose reader died while its socket stayed open, and reconnects at once.
 *
 * nats.js reads the socket in one loop; if anything in it throws (see `reader-guard.ts` for what
 * is guarded) the loop ends, the socket stays open, and the process hears nothing, although it
 * still sends. nats.js's own ping timer notices only after `pingInterval` × (`maxPingOut` + 1), 6
 * minutes by default. Here a round trip to the server (a flush: PING, wait for PONG) is started
 * every `everyMs` while connected; one not answered within `timeoutMs` means nobody reads the
 * socket (or the server is gone): the connection is dropped and re-established at once (nats.js
 * re-subscribes everything on reconnect).
 *
 * A busy process may run this check late, with the PONG already waiting in the socket: an overdue
 * round trip is judged only in the next check phase of the event loop, after the socket was read.
 *
 * @example
 * ```ts
 * const watchdog = new ReaderWatchdog(nc, logger, { everyMs: 5000, timeoutMs: 10_000 });
 * watchdog.start();
 * watchdog.stop();
 * ```
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../log.js";

export interface ReaderCheckOptions {
  /** How often a round trip is started; 0 turns the check off. Default 5000 ms. */
  readonly everyMs?: number;
  /** A round trip unanswered this long means the reader is dead. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

export const DEFAULT_READER_CHECK_EVERY_MS = 5000;
export const DEFAULT_READER_CHECK_TIMEOUT_MS = 10_000;

export class ReaderWatchdog {
  private timer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the unanswered round trip was started, undefined when none is. */
  private probeSince: number | undefined;
  private probeId = 0;
  private connected = true;
  private readonly everyMs: number;
  private readonly timeoutMs: number;
  /** Reconnects this watchdog forced. */
  restarts = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly logger: Logger,
    options: ReaderCheckOptions = {},
  ) {
    this.everyMs = options.everyMs ?? DEFAULT_READER_CHECK_EVERY_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_READER_CHECK_TIMEOUT_MS;
  }

  start(): void {
    if (this.everyMs <= 0 || this.timer) return;
    void this.followStatus();
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Round trips are only meaningful while connected: nats.js queues them during a reconnect. */
  private async followStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnecting") this.connected = false;
        else if (s.type === "reconnect") {
          this.connected = true;
          this.probeSince = undefined;
        }
      }
    } catch (err) {
      this.logger.warn("connection status stream ended; the reader watchdog keeps checking", { err });
    }
  }

  private tick(): void {
    if (this.nc.isClosed() || this.nc.isDraining()) {
      this.stop();
      return;
    }
    if (!this.connected) return;
    const now = performance.now();
    if (this.probeSince === undefined) {
      this.probe(now);
      return;
    }
    if (now - this.probeSince < this.timeoutMs) return;
    const id = this.probeId;
    setImmediate(() => {
      if (this.probeId === id && this.probeSince !== undefined && this.connected) this.restart();
    });
  }

  private probe(now: number): void {
    const id = ++this.probeId;
    this.probeSince = now;
    this.nc.flush().then(
      () => {
        if (this.probeId === id) this.probeSince = undefined;
      },
      () => {
        // The connection dropped or closed: the status stream says when it is back.
        if (this.probeId === id) this.probeSince = undefined;
      },
    );
  }

  private restart(): void {
    const silentMs = Math.round(performance.now() - (this.probeSince ?? performance.now()));
    this.probeSince = undefined;
    this.probeId++;
    this.restarts++;
    this.logger.error(
      "no answer from the NATS server on an open connection: its reader stopped; reconnecting",
      {
        silentMs,
        timeoutMs: this.timeoutMs,
      },
    );
    this.nc.reconnect().catch((err: unknown) => {
      this.logger.error("reconnecting after a stopped reader failed", { err });
    });
  }
}
