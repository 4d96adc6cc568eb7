import { readFileSync } from "node:fs";
import net from "node:net";
import { NatsServerUnavailableError } from "../errors.js";

/** Lowest port handed out by {@link reservePorts}. */
const MIN_PORT = 10_000;
/** Used when the kernel's ephemeral range cannot be read (non-Linux). */
const DEFAULT_EPHEMERAL_START = 32_768;
const MAX_ATTEMPTS = 200;

/**
 * Picks `count` distinct ports on `host` that are free right now, for listeners whose port must be
 * known before they start and must stay the same across restarts (cluster routes).
 *
 * The ports come from below the kernel's ephemeral range (Linux:
 * `/proc/sys/net/ipv4/ip_local_port_range`), so outgoing connections and port-0 listeners (e.g.
 * other test servers started with `port: -1`) never take them between this call and the server's
 * (re)start. Each candidate is checked by binding it; the rare clash with another process that
 * reserves at the same moment shows up as "address already in use" when the server starts.
 *
 * @example
 * ```ts
 * const [a, b, c] = await reservePorts(3); // e.g. [21873, 14502, 30117]
 * ```
 */
export async function reservePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const upper = ephemeralRangeStart() - 1;
  if (upper - MIN_PORT < count * 10) return reserveEphemeral(count, host);
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count && attempt < MAX_ATTEMPTS; attempt++) {
      const port = MIN_PORT + Math.floor(Math.random() * (upper - MIN_PORT + 1));
      if (ports.includes(port)) continue;
      const server = await tryListen(port, host);
      if (server) {
        held.push(server);
        ports.push(port);
      }
    }
  } finally {
    await Promise.all(held.map(closeServer));
  }
  if (ports.length < count) {
    throw new NatsServerUnavailableError(`could not find ${count} free ports on ${host}`, {
      details: { reason: "no-free-port", host },
    });
  }
  return ports;
}

async function reserveEphemeral(count: number, host: string): Promise<number[]> {
  const held: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = await tryListen(0, host);
      if (!server) {
        throw new NatsServerUnavailableError(`could not bind a port on ${host}`, {
          details: { reason: "no-free-port", host },
        });
      }
      held.push(server);
    }
    return held.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(held.map(closeServer));
  }
}

/** Resolves to the listening server, or `undefined` when the port is taken or not allowed. */
function tryListen(port: number, host: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE" || err.code === "EACCES") resolve(undefined);
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const n = Number(low);
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_EPHEMERAL_START;
  } catch {
    // Not Linux (or /proc hidden): assume the IANA/Linux default.
    return DEFAULT_EPHEMERAL_START;
  }
}
