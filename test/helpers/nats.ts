import type { ExecutionContext } from "ava";
import {
  type NatsCluster,
  type NatsClusterOptions,
  type NatsServer,
  type NatsServerOptions,
  startNatsCluster,
  startNatsServer,
} from "troupe/testing";

/**
 * Starts a real nats-server (free ports, fresh temp folder) for one test and removes it in the
 * test's teardown.
 *
 * @example
 * ```ts
 * test("mesh - a call reaches its actor", async (t) => {
 *   const server = await startServer(t);
 *   const nc = await connect({ servers: server.url });
 * });
 * ```
 */
export async function startServer(t: ExecutionContext, opts?: NatsServerOptions): Promise<NatsServer> {
  const server = await startNatsServer(opts);
  t.teardown(() => server.cleanup());
  return server;
}

/**
 * Starts a JetStream cluster (3 nodes unless `opts.size` says otherwise) for one test and
 * removes it in the test's teardown.
 *
 * @example
 * ```ts
 * const cluster = await startCluster(t);
 * const nc = await connect({ servers: cluster.urls });
 * ```
 */
export async function startCluster(t: ExecutionContext, opts?: NatsClusterOptions): Promise<NatsCluster> {
  const cluster = await startNatsCluster(opts);
  t.teardown(() => cluster.cleanup());
  return cluster;
}
