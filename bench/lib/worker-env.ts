/**
 * Per-process state of a bench worker: where NATS is, the mesh prefix, and lazily opened
 * connections (a Troupe mesh, raw nats.js connections), all closed on exit.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { connect as natsConnect } from "@nats-io/transport-node";
import { type ConnectOptions, connect, consoleLogger, type Mesh } from "troupe";

export interface WorkerEnv {
  url: string;
  prefix: string;
}

let current: WorkerEnv | undefined;
let meshPromise: Promise<Mesh> | undefined;
const raw = new Map<string, Promise<NatsConnection>>();

export function setEnv(env: WorkerEnv): void {
  current = env;
}

export function env(): WorkerEnv {
  if (!current) throw new Error("worker not initialised (the parent sends `init` first)");
  return current;
}

/** This process's Troupe mesh (one connection, like an application would have). */
export function mesh(options: ConnectOptions = {}): Promise<Mesh> {
  meshPromise ??= connect({
    servers: env().url,
    prefix: env().prefix,
    name: `bench-${process.argv[2] ?? "worker"}`,
    logger: consoleLogger("warn"),
    ...options,
  });
  return meshPromise;
}

/**
 * A raw nats.js connection. `fast` sets `noAsyncTraces` (what the fastest raw pattern and Troupe
 * use); `default` is nats.js out of the box (what a plain `nc.request()` user gets).
 */
export function rawConnection(kind: "fast" | "default" | "control" = "fast"): Promise<NatsConnection> {
  let nc = raw.get(kind);
  if (!nc) {
    nc = natsConnect({
      servers: env().url,
      name: `bench-${process.argv[2] ?? "worker"}-${kind}`,
      ...(kind === "default" ? {} : { noAsyncTraces: true }),
    });
    raw.set(kind, nc);
  }
  return nc;
}

/** Closes the mesh (draining any host) and every raw connection. */
export async function closeAll(): Promise<void> {
  const closing: Promise<unknown>[] = [];
  if (meshPromise) closing.push(meshPromise.then((m) => m.close()));
  for (const nc of raw.values()) closing.push(nc.then((c) => c.drain()));
  await Promise.allSettled(closing);
}
