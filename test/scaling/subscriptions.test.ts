/**
 * Scaling counts durable subscriptions (`@subscribe` consumers) beside job queues: events waiting
 * for a group's subscriber are backlog, and the decision names the subscription.
 */
import test from "ava";
import { Actor, connect, consoleLogger, subscribe } from "troupe";
import type { ScalingDecision__Output } from "../../runtime/protos/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { groupPolicy } from "../../services/control-plane/scaling/index.js";
import { startPlane, TOKEN } from "../control-plane/helpers.js";

let release: () => void = () => undefined;
const gate = new Promise<void>((r) => {
  release = r;
});

class Listener extends Actor {
  static options = { stateless: true };
  /** Holds every event until the test releases them: a backlog that stays. */
  @subscribe("scaling.ping", { capacity: 2 })
  async onPing(_event: unknown): Promise<void> {
    await gate;
  }
}

test("scaling subscriptions - events waiting for a durable subscriber are the group's backlog", async (t) => {
  t.timeout(90_000);
  const prefix = "scsub";
  const { plane, natsUrl } = await startPlane(t, {
    prefix,
    scaling: {
      groups: [
        groupPolicy({
          group: "listeners",
          minHosts: 1,
          maxHosts: 6,
          targetBacklogPerHost: 10,
          scaleDownWindowMs: 0,
          stuckAfterMs: 600_000,
        }),
      ],
    },
  });
  const logger = consoleLogger("silent");
  const mesh = await connect({ servers: natsUrl, prefix, logger });
  t.teardown(() => mesh.close());
  await mesh.host([Listener], {
    group: "listeners",
    throttling: { controlPlane: plane.address, token: TOKEN },
  });
  for (let i = 0; i < 35; i++) await mesh.publish("scaling.ping", { i });

  const client = connectControlPlane({ address: plane.address, token: TOKEN });
  t.teardown(() => client.close());
  const get = () =>
    new Promise<ScalingDecision__Output>((resolve, reject) =>
      client.scaling.GetDecision({ group: "listeners" }, client.metadata(), (err, d) =>
        err || !d ? reject(err) : resolve(d),
      ),
    );
  let decision: ScalingDecision__Output | undefined;
  const end = performance.now() + 30_000;
  while (performance.now() < end) {
    decision = await get().catch(() => undefined);
    if (decision?.backlog === 35) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  release();
  t.is(decision?.backlog, 35, decision?.reason);
  // 35 waiting, 10 per host before a rate is known: 4 hosts, for the subscription.
  t.is(decision?.desiredHosts, 4);
  t.regex(decision?.reason ?? "", /events\.Listener_onPing: backlog 35/);
});
