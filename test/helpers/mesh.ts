/**
 * Test helpers: a real nats-server per test (via ./nats.ts) and a mesh connected to it, all torn
 * down with the test.
 */
import type { ExecutionContext } from "ava";
import { type ConnectOptions, connect, consoleLogger, type Mesh } from "troupe";
import { startServer } from "./nats.js";

export interface MeshFixture {
  url: string;
  mesh: Mesh;
  /** Opens another mesh connection (another "process") to the same server and prefix. */
  connectAnother(options?: ConnectOptions): Promise<Mesh>;
}

let counter = 0;

/**
 * The deadline of calls that set none, in test meshes: 3x the library's default. Tests of
 * deadlines set their own; the rest check outcomes, and a call must not fail on a machine so busy
 * that a turn waits seconds for a core.
 */
export const TEST_CALL_TIMEOUT_MS = 30_000;

/** Starts a nats-server with JetStream and connects a mesh to it; both are closed in teardown. */
export async function startMesh(t: ExecutionContext, options: ConnectOptions = {}): Promise<MeshFixture> {
  const server = await startServer(t);
  const prefix = options.prefix ?? `t${process.pid}x${++counter}`;
  const logger = options.logger ?? consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");
  // TROUPE_TEST_LOCAL_DELIVERY=0 makes every call cross NATS even to a host of the same connection
  // (test/integration/request-reply-over-nats.test.ts reruns the request-reply suite that way).
  const localDelivery = process.env.TROUPE_TEST_LOCAL_DELIVERY !== "0";
  const open = async (more: ConnectOptions = {}) => {
    const m = await connect({
      servers: server.url,
      prefix,
      logger,
      localDelivery,
      defaultTimeoutMs: TEST_CALL_TIMEOUT_MS,
      ...options,
      ...more,
    });
    t.teardown(() => m.close());
    return m;
  };
  return { url: server.url, mesh: await open(), connectAnother: open };
}

/** Polls `check` until it returns true, failing the test after `timeoutMs`. No timing assertions: just waiting. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
