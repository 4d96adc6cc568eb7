/** Shared setup of the pub-sub tests: a real nats-server, meshes hosting subscriber types. */
import type { ExecutionContext } from "ava";
import type { ActorClass, Mesh } from "troupe";
import { type SubscribersOptions, startSubscribers } from "../../runtime/pubsub/index.js";

/** Fast retries for tests (never asserted on as durations). */
export const FAST: SubscribersOptions = {
  initialDelayMs: 50,
  maxDelayMs: 300,
  ackWaitMs: 5000,
  pullExpiresMs: 1000,
};

/** Hosts `types` on `mesh` and starts their subscriptions (stopped in teardown, before the host drains). */
export async function hostSubscribers(
  t: ExecutionContext,
  mesh: Mesh,
  types: ActorClass[],
  options: SubscribersOptions = {},
) {
  const host = await mesh.host(types, { jobs: false, subscriptions: false });
  const subs = await startSubscribers(mesh, types, { ...FAST, ...options });
  t.teardown(async () => {
    await subs.stop();
    await host.drain();
  });
  return subs;
}

/** How many times each id occurs. */
export function counts(ids: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}
