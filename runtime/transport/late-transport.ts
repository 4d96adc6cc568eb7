/**
 * A {@link Transport} that may not have its connection yet: `connect({ outbox })` must return
 * while NATS is unreachable, so that sends can go to the outbox before the server was ever
 * reached. It tries to connect, and while it cannot, tries again every `reconnectTimeWaitMs`
 * (default 2 s) until it can or is closed; from then on it delegates to the {@link NatsTransport}
 * (whose own reconnects nats.js handles).
 *
 * Until connected, whatever needs the broker fails with `OfflineError`: publishes throw, requests
 * and bucket opens reject, subscribing (hosting) throws.
 *
 * @example
 * ```ts
 * const transport = await LateTransport.start({ servers: "nats://edge:4222" }, logger);
 * transport.onConnectionChange((up) => logger.info(up ? "online" : "offline"));
 * ```
 */
import { ConfigurationError, ConnectionFailedError, OfflineError } from "../errors.js";
import type { Logger } from "../log.js";
import type { NatsOptions } from "./connection.js";
import { NatsTransport } from "./nats-transport.js";
import type {
  BucketOptions,
  InboundMessage,
  KeyValueBucket,
  OneWayAnswerHandler,
  RequestOutcome,
  SubscribeOptions,
  SubscriptionHandle,
  Transport,
} from "./transport.js";

const DEFAULT_RETRY_MS = 2000;

export class LateTransport implements Transport {
  private inner: NatsTransport | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private oneWayHandler: OneWayAnswerHandler | undefined;
  private readonly listeners: ((connected: boolean) => void)[] = [];
  private attempts = 0;

  private constructor(
    private readonly options: NatsOptions,
    private readonly logger: Logger,
  ) {}

  /** Connects if it can; otherwise returns at once and keeps trying in the background. */
  static async start(options: NatsOptions, logger: Logger): Promise<LateTransport> {
    const t = new LateTransport(options, logger);
    await t.tryConnect();
    return t;
  }

  /** The connected transport, once there is one. */
  underlying(): NatsTransport | undefined {
    return this.inner;
  }

  get connected(): boolean {
    return this.inner?.connected ?? false;
  }

  get isClosed(): boolean {
    return this.closed || (this.inner?.isClosed ?? false);
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.listeners.push(listener);
  }

  private async tryConnect(): Promise<void> {
    if (this.closed) return;
    this.attempts++;
    let inner: NatsTransport;
    try {
      inner = await NatsTransport.connect(this.options, this.logger);
    } catch (err) {
      if (!(err instanceof ConnectionFailedError)) throw err;
      if (this.attempts === 1 || this.attempts % 30 === 0) {
        this.logger.warn("NATS is unreachable; sends go to the outbox until it is", {
          attempts: this.attempts,
          err,
        });
      }
      // Not unref'd: like a connection that is reconnecting, this keeps the process alive.
      this.retryTimer = setTimeout(() => {
        this.tryConnect().catch((e: unknown) =>
          this.logger.error("connecting to NATS failed for a reason retrying will not fix", { err: e }),
        );
      }, this.options.reconnectTimeWaitMs ?? DEFAULT_RETRY_MS);
      return;
    }
    if (this.closed) {
      await inner.close();
      return;
    }
    this.inner = inner;
    if (this.oneWayHandler) inner.onOneWayAnswer(this.oneWayHandler);
    inner.onConnectionChange((up) => this.tell(up));
    if (this.attempts > 1) this.logger.info("connected to NATS", { attempts: this.attempts });
    this.tell(true);
  }

  private tell(up: boolean): void {
    for (const l of this.listeners) {
      try {
        l(up);
      } catch (err) {
        this.logger.error("a connection-change listener threw", { err });
      }
    }
  }

  private need(): NatsTransport {
    if (this.inner) return this.inner;
    throw new OfflineError(
      this.closed
        ? "the mesh connection is closed"
        : "NATS has not been reached yet: nothing can be sent now",
    );
  }

  publish(subject: string, data: Uint8Array, headers?: Record<string, string>): void {
    this.need().publish(subject, data, headers);
  }

  publishOneWay(
    subject: string,
    data: Uint8Array,
    headers?: Record<string, string>,
    attempt?: number,
  ): number {
    return this.need().publishOneWay(subject, data, headers, attempt);
  }

  onOneWayAnswer(handler: OneWayAnswerHandler): void {
    this.oneWayHandler = handler;
    this.inner?.onOneWayAnswer(handler);
  }

  reply(replyTo: string, data: Uint8Array, headers?: Record<string, string>): void {
    this.need().reply(replyTo, data, headers);
  }

  request(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers?: Record<string, string>,
    keepaliveTimeoutMs?: number,
  ): Promise<RequestOutcome> {
    try {
      return this.need().request(subject, data, timeoutMs, headers, keepaliveTimeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  requestLocally(timeoutMs: number, deliver: (replyTo: string) => void): Promise<RequestOutcome> {
    try {
      return this.need().requestLocally(timeoutMs, deliver);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  settleLocally(replyTo: string, ok: boolean, value: unknown): void {
    this.inner?.settleLocally(replyTo, ok, value);
  }

  subscribe(
    subject: string,
    options: SubscribeOptions,
    handler: (msg: InboundMessage) => void,
  ): SubscriptionHandle {
    return this.need().subscribe(subject, options, handler);
  }

  keyValue(bucket: string, options?: BucketOptions): Promise<KeyValueBucket> {
    try {
      return this.need().keyValue(bucket, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  existingKeyValue(bucket: string): Promise<KeyValueBucket | null> {
    try {
      return this.need().existingKeyValue(bucket);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  flush(): Promise<void> {
    try {
      return this.need().flush();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.inner?.close();
  }
}

/**
 * The NATS transport behind `transport` (itself, or the one a {@link LateTransport} delegates to).
 * @throws OfflineError when a LateTransport has not connected yet; ConfigurationError when
 *   `transport` is not NATS at all (`needs` names what needed it).
 */
export function natsTransportOf(transport: Transport, needs: string): NatsTransport {
  if (transport instanceof NatsTransport) return transport;
  const inner = transport.underlying?.();
  if (inner instanceof NatsTransport) return inner;
  if (transport instanceof LateTransport) {
    throw new OfflineError(`NATS has not been reached yet: ${needs} are not available`);
  }
  throw new ConfigurationError(`${needs} need the NATS transport`);
}
