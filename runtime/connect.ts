/**
 * Opening a mesh connection: `connect()` checks the options, connects to NATS (or, with an outbox,
 * starts without a server) and returns the {@link Mesh}; and the deprecated `resilientRef`.
 *
 * @example
 * ```ts
 * import { connect } from "troupe";
 * const mesh = await connect({ servers: process.env.NATS_URL, name: "shop-1" });
 * ```
 */
import type { ActorClass, ActorRef, ActorShape, CallOptions } from "./actor/index.js";
import { checkConnectOptions } from "./client-options.js";
import type { ConnectOptions } from "./connect-options.js";
import { consoleLogger } from "./log.js";
import { Mesh } from "./mesh.js";
import { resolveOutboxOptions } from "./outbox/index.js";
import type { CallRetryOptions } from "./resilience/index.js";
import { LateTransport, NatsTransport, withMeshDefaults } from "./transport/index.js";

/** Options of {@link resilientRef}: call options with a retry policy. */
export interface ResilientRefOptions extends CallOptions {
  retry?: CallRetryOptions;
}

/**
 * @deprecated The same as `mesh.ref(type, id, { retry, ... })`, the one spelling of a retrying
 * reference; kept so existing code keeps working.
 */
export function resilientRef<A extends ActorShape>(
  mesh: Mesh,
  type: ActorClass<A>,
  id: string,
  options: ResilientRefOptions = {},
): ActorRef<A> {
  return mesh.ref(type, id, options);
}

/**
 * Connects to NATS and returns the mesh.
 *
 * @example
 * ```ts
 * const mesh = await connect({ servers: "nats://127.0.0.1:4222", name: "worker-1" });
 * ```
 */
export async function connect(given: ConnectOptions = {}): Promise<Mesh> {
  checkConnectOptions(given);
  // No prefix given: TROUPE_PREFIX, else that of the dev mesh it connects to (transport/servers.ts).
  const options = withMeshDefaults(given);
  const logger = options.logger ?? consoleLogger();
  if (options.outbox) resolveOutboxOptions(options.outbox); // bad options fail before any connecting
  // With an outbox, sends need no server: connect() returns even when NATS cannot be reached yet.
  const transport = options.outbox
    ? await LateTransport.start(options, logger)
    : await NatsTransport.connect(options, logger);
  try {
    return new Mesh(transport, { ...options, logger });
  } catch (err) {
    await transport.close();
    throw err;
  }
}
