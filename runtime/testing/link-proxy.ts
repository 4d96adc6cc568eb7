import net from "node:net";
import { NatsServerUnavailableError } from "../errors.js";

const HOST = "127.0.0.1";

/** A TCP forwarder between two servers whose link a test can cut and restore. */
export interface LinkProxy {
  /** The port to connect to instead of the target's. */
  readonly port: number;
  /** True between `cut()` and `restore()`. */
  readonly isCut: boolean;
  /** Closes every forwarded connection and refuses new ones until `restore()`. */
  cut(): void;
  /** Accepts and forwards connections again (the client side reconnects on its own schedule). */
  restore(): void;
  /** Closes the listener and every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a loopback TCP proxy to `targetPort`, e.g. between an edge nats-server and its hub's
 * leaf-node port, so a test can cut the link without stopping either server.
 *
 * @example
 * ```ts
 * const link = await startLinkProxy(hubLeafPort);
 * // the leaf's remote: `nats-leaf://127.0.0.1:${link.port}`
 * link.cut();      // both servers keep running; the leaf connection drops
 * link.restore();  // the leaf reconnects (about every second)
 * ```
 */
export async function startLinkProxy(targetPort: number, port = 0): Promise<LinkProxy> {
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((inbound) => {
    if (cut) {
      inbound.destroy();
      return;
    }
    const outbound = net.connect(targetPort, HOST);
    open.add(inbound);
    open.add(outbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
      open.delete(inbound);
      open.delete(outbound);
    };
    inbound.on("error", close).on("close", close);
    outbound.on("error", close).on("close", close);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new NatsServerUnavailableError(`link proxy could not listen: ${err.message}`, { cause: err })),
    );
    server.listen(port, HOST, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    get isCut() {
      return cut;
    },
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        cut = true;
        for (const socket of open) socket.destroy();
        open.clear();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
