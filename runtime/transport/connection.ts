/**
 * Opening a NATS connection with Troupe's defaults. This folder (`runtime/transport/`) is the only
 * place that imports nats.js; everything else talks to the {@link Transport} interface.
 */
import { readFile } from "node:fs/promises";
import {
  type Authenticator,
  type ConnectionOptions,
  createInbox,
  credsAuthenticator,
  type NatsConnection,
} from "@nats-io/nats-core";
import { connect as natsConnect } from "@nats-io/transport-node";
import { ConfigurationError, ConnectionFailedError } from "../errors.js";
import type { Logger } from "../log.js";
import type { ReaderCheckOptions } from "./reader-watchdog.js";
import { chooseServers, DEFAULT_NATS_URL } from "./servers.js";

/** How to reach and authenticate to NATS. Every field is optional; `servers` defaults to `NATS_URL`. */
export interface NatsOptions {
  /**
   * One URL, a comma-separated list, or an array. Default: `NATS_URL`, else the dev mesh running
   * from the current folder (`troupe dev`), else `nats://127.0.0.1:4222` (with a warning saying so).
   */
  servers?: string | string[];
  /** Connection name shown by the server's monitoring (e.g. the host name). */
  name?: string;
  /** Path to a `.creds` file (JWT + NKey seed), e.g. from `nsc`. Default: `NATS_CREDS`. */
  credsFile?: string;
  /** Token auth. Default: `NATS_TOKEN`. */
  token?: string;
  /** User and password auth. Default: `NATS_USER`, `NATS_PASSWORD` (`troupe auth gen` writes the users). */
  user?: string;
  pass?: string;
  /**
   * Subject prefix of this connection's reply inboxes (nats.js `inboxPrefix`): every reply to a
   * call, JetStream API request, KV watch and job pull comes to `<inboxPrefix>.<unique id>...`.
   * Default: `NATS_INBOX_PREFIX`, else nats.js's `_INBOX`. With `troupe auth gen` each user may
   * subscribe only to its own `_INBOX_<user>.>`: set it to `_INBOX_<user>` (see docs/kubernetes.md).
   */
  inboxPrefix?: string;
  /** TLS: CA to verify the server, client cert and key for mutual TLS. Default: `NATS_CA`, `NATS_CERT`, `NATS_KEY`. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string; handshakeFirst?: boolean };
  /** Give up reconnecting after this many attempts per server; -1 (default) retries forever. */
  maxReconnectAttempts?: number;
  /** Pause between reconnect attempts (default 2000 ms, the nats.js default). */
  reconnectTimeWaitMs?: number;
  /** Keep retrying the first connect instead of failing at once (default false). */
  waitOnFirstConnect?: boolean;
  /** One JetStream API request (creating a stream, consumer or bucket) times out after this. Default 5000 ms. */
  jetStreamApiTimeoutMs?: number;
  /**
   * Creating streams, consumers and buckets retries a JetStream that times out or is not ready yet
   * (no meta leader) for this long, then fails with `JetStreamUnavailableError`. Default 60 000 ms.
   */
  jetStreamSetupDeadlineMs?: number;
  /**
   * The check that reconnects at once when this connection's reader stopped with the socket still
   * open (a round trip to the server every `everyMs`, default 5000; none answered within
   * `timeoutMs`, default 10 000, forces a reconnect). `{ everyMs: 0 }` turns it off.
   */
  readerCheck?: ReaderCheckOptions;
  /** Extra nats.js options, applied last (escape hatch). */
  extra?: Partial<ConnectionOptions>;
}

/** Tokens of letters, digits, `_`, `-` (and any other subject character but wildcards), dot-separated. */
const INBOX_PREFIX = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/** The inbox prefix to use: the option, else `NATS_INBOX_PREFIX`, else none (nats.js's `_INBOX`). */
export function resolveInboxPrefix(option: string | undefined): string | undefined {
  const prefix = option ?? (process.env.NATS_INBOX_PREFIX || undefined);
  if (prefix === undefined) return undefined;
  if (typeof prefix !== "string" || !INBOX_PREFIX.test(prefix)) {
    throw new ConfigurationError(
      `inbox prefix "${String(prefix)}" must be subject tokens without wildcards or spaces (e.g. _INBOX_troupe-client)`,
      { details: { inboxPrefix: String(prefix) } },
    );
  }
  return prefix;
}

/**
 * The inbox prefix a connection was opened with. nats.js keeps its options on the connection
 * object (its JetStream and KV clients read `nc.options.inboxPrefix` the same way) but its
 * `NatsConnection` type does not declare them.
 */
export function connectionInboxPrefix(nc: NatsConnection): string | undefined {
  return (nc as NatsConnection & { options?: ConnectionOptions }).options?.inboxPrefix;
}

/** A new reply inbox of this connection, `<prefix>.<unique id>`, under its own inbox prefix. */
export function newInbox(nc: NatsConnection): string {
  return createInbox(connectionInboxPrefix(nc));
}

export function resolveServers(servers: string | string[] | undefined): string[] {
  return chooseServers(servers).servers;
}

export async function openNatsConnection(opts: NatsOptions = {}, logger?: Logger): Promise<NatsConnection> {
  const chosen = chooseServers(opts.servers);
  const inboxPrefix = resolveInboxPrefix(opts.inboxPrefix);
  if (chosen.isDefault) {
    logger?.warn(`connecting to ${DEFAULT_NATS_URL}: ${chosen.source}`, { servers: chosen.servers });
  }
  const credsFile = opts.credsFile ?? process.env.NATS_CREDS;
  const authenticator: Authenticator | undefined = credsFile
    ? credsAuthenticator(await readFile(credsFile))
    : undefined;
  const caFile = opts.tls?.caFile ?? process.env.NATS_CA;
  const certFile = opts.tls?.certFile ?? process.env.NATS_CERT;
  const keyFile = opts.tls?.keyFile ?? process.env.NATS_KEY;
  const tls =
    caFile || certFile || keyFile || opts.tls
      ? {
          ...(caFile ? { caFile } : {}),
          ...(certFile ? { certFile } : {}),
          ...(keyFile ? { keyFile } : {}),
          ...(opts.tls?.handshakeFirst ? { handshakeFirst: true } : {}),
        }
      : undefined;
  const token = opts.token ?? process.env.NATS_TOKEN;
  const user = opts.user ?? process.env.NATS_USER;
  const pass = opts.pass ?? process.env.NATS_PASSWORD;
  const options: ConnectionOptions = {
    servers: chosen.servers,
    // Async stack traces cost about a third of a request's CPU in nats.js (see docs/benchmarks.md).
    noAsyncTraces: true,
    maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    ...(opts.reconnectTimeWaitMs !== undefined ? { reconnectTimeWait: opts.reconnectTimeWaitMs } : {}),
    ...(opts.name ? { name: opts.name } : {}),
    ...(authenticator ? { authenticator } : {}),
    ...(token ? { token } : {}),
    ...(user ? { user, pass: pass ?? "" } : {}),
    ...(tls ? { tls } : {}),
    ...(inboxPrefix ? { inboxPrefix } : {}),
    ...opts.extra,
  };
  try {
    return await natsConnect(options);
  } catch (err) {
    const servers = (options.servers as string[]).join(", ");
    const from = chosen.isDefault ? ` (${chosen.source}: set NATS_URL or start \`troupe dev\`)` : "";
    throw new ConnectionFailedError(
      `could not connect to NATS at ${servers}${from}: ${(err as Error).message}`,
      {
        cause: err,
        details: { servers },
      },
    );
  }
}
