/**
 * Events published at the hub reach an edge site's subscribers (docs/patterns/edge-sites.md):
 * `edgeSite({ hubEvents })` makes the edge's `troupe_hub_events` source the hub's events stream,
 * and the edge's durable subscribers read it beside their own events stream. Hub + edge
 * nats-servers on loopback, joined by a link the test cuts.
 */
import test from "ava";
import {
  Actor,
  ConfigurationError,
  connect,
  consoleLogger,
  edgeLink,
  edgeSite,
  listSubscriptions,
  type Mesh,
  subscribe,
} from "troupe";
import { startEdgeSite } from "troupe/testing";
import { jetStreamQueues } from "../../runtime/transport/index.js";
import { eventually, TEST_CALL_TIMEOUT_MS } from "../helpers/mesh.js";
import { counts, hostSubscribers } from "../pubsub/helpers.js";

const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");

interface Price {
  id: string;
}

const seenAtEdge: string[] = [];
const seenAtHub: string[] = [];

/** Hosted at the edge: hears prices published at the hub and at the edge. */
class Shelf extends Actor {
  @subscribe("prices.>", { key: (p: Price) => p.id, startAt: "all" })
  async onPrice(p: Price) {
    seenAtEdge.push(p.id);
  }
}

/** Hosted at the hub. */
class Ledger extends Actor {
  @subscribe("prices.>", { key: (p: Price) => p.id, startAt: "all" })
  async onPrice(p: Price) {
    seenAtHub.push(p.id);
  }
}

async function open(t: import("ava").ExecutionContext, servers: string, name: string): Promise<Mesh> {
  const m = await connect({ servers, name, logger, defaultTimeoutMs: TEST_CALL_TIMEOUT_MS });
  t.teardown(() => m.close());
  return m;
}

test.serial(
  "edge sites - an event published at the hub while the link is cut reaches the edge's subscriber once it is back, exactly once; the edge's own events are not handed back to it",
  async (t) => {
    const site = await startEdgeSite({ domain: "site-h" });
    t.teardown(() => site.cleanup());
    const hub = await open(t, site.hub.url, "hub");
    const edge = await open(t, site.edge.url, "edge");
    await edgeSite(edge, { hubDomain: site.hubDomain, hubEvents: true });
    await edgeLink(hub, { domain: site.domain }); // the edge's events reach the hub, and come back
    const edgeSubs = await hostSubscribers(t, edge, [Shelf]);
    const hubHost = await hub.host([Ledger]);
    t.teardown(() => hubHost.drain());

    await hub.publish("prices.h1", { id: "h1" });
    await edge.publish("prices.e1", { id: "e1" });
    await eventually(
      () => ["h1", "e1"].every((id) => seenAtEdge.includes(id) && seenAtHub.includes(id)),
      60_000,
      "both events at both sites",
    );

    site.link.cut();
    await site.waitForLink(false);
    await hub.publish("prices.h2", { id: "h2" }, { msgId: "price-h2" });
    await hub.publish("prices.h3", { id: "h3" }); // no message id
    await edge.publish("prices.e2", { id: "e2" });
    await eventually(() => seenAtEdge.includes("e2"), 60_000, "the edge's own event while cut");
    t.false(seenAtEdge.includes("h2") || seenAtEdge.includes("h3"), "nothing crosses a cut link");

    site.link.restore();
    await site.waitForLink(true);
    const edgeQ = jetStreamQueues(edge.transport);
    const all = ["h1", "e1", "h2", "h3", "e2"];
    // Settled: the hub holds every event once (no loop), the edge's copy of the hub's events holds
    // them all (its own two came back), and the edge's subscriber has taken all of that copy.
    await eventually(
      async () => {
        const [hubEvents, edgeEvents, copy, consumer] = await Promise.all([
          jetStreamQueues(hub.transport).streamCounts("troupe_events"),
          edgeQ.streamCounts("troupe_events"),
          edgeQ.streamCounts("troupe_hub_events"),
          edgeQ.consumerCounts("troupe_hub_events", "Shelf_onPrice"),
        ]);
        return (
          hubEvents?.messages === all.length &&
          edgeEvents?.messages === 2 &&
          copy?.messages === all.length &&
          consumer?.pending === 0 &&
          consumer.ackPending === 0 &&
          all.every((id) => seenAtEdge.includes(id))
        );
      },
      90_000,
      "the edge to catch up with the hub's events after the link came back",
    );
    t.deepEqual(
      [...counts(seenAtEdge.filter((id) => all.includes(id))).entries()].sort(),
      all.map((id) => [id, 1]).sort(),
      "each event handled once at the edge, whichever site published it",
    );
    t.deepEqual(
      [...counts(seenAtHub.filter((id) => all.includes(id))).entries()].sort(),
      all.map((id) => [id, 1]).sort(),
    );
    const stats = edgeSubs.stats("Shelf_onPrice");
    t.is(stats?.handled, all.length);
    t.is(stats?.filtered, 2, "the edge's two events, back from the hub, skipped");
    // `troupe subs ls` shows the subscription's consumer on each stream.
    const rows = (await listSubscriptions(edge)).filter((r) => r.name === "Shelf_onPrice");
    t.deepEqual(rows.map((r) => [r.hub, r.pending, r.ackPending]).sort(), [
      [false, 0, 0],
      [true, 0, 0],
    ]);
  },
);

test("edge sites - hubEvents needs hubDomain; a pattern limits what the edge copies", async (t) => {
  const site = await startEdgeSite({ domain: "site-p" });
  t.teardown(() => site.cleanup());
  const hub = await open(t, site.hub.url, "hub");
  const edge = await open(t, site.edge.url, "edge");
  await t.throwsAsync(edgeSite(edge, { hubEvents: true }), { instanceOf: ConfigurationError });
  await t.throwsAsync(edgeSite(edge, { hubDomain: site.hubDomain, hubEvents: "bad pattern" }), {
    instanceOf: ConfigurationError,
  });
  await edgeSite(edge, { hubDomain: site.hubDomain, hubEvents: "alerts.>" });
  await edgeSite(edge, { hubDomain: site.hubDomain, hubEvents: "alerts.>" }); // idempotent
  await hub.publish("prices.p1", { id: "p1" });
  await hub.publish("alerts.a1", { id: "a1" });
  const edgeQ = jetStreamQueues(edge.transport);
  await eventually(
    async () => (await edgeQ.streamCounts("troupe_hub_events"))?.messages === 1,
    60_000,
    "the alert at the edge",
  );
  const copied = await edgeQ.lastBySubject("troupe_hub_events", "troupe.evt.alerts.a1", false);
  t.truthy(copied);
  t.is(await edgeQ.lastBySubject("troupe_hub_events", "troupe.evt.prices.p1", false), null);
});
