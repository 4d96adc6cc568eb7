/**
 * An outbox at an edge site (docs/patterns/edge-sites.md, docs/patterns/sparse-connectivity.md): a
 * process that never reached its server does not know the site's JetStream domain when it appends,
 * so the outbox names it when it forwards. Without that, the result of a job forwarded into the
 * edge stayed at the hub, and an event came back from the hub to the edge's subscriber a second time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { Actor, connect, consoleLogger, edgeLink, edgeSite, type Mesh, subscribe } from "troupe";
import { startEdgeSite } from "troupe/testing";
import { jetStreamQueues } from "../../runtime/transport/index.js";
import { eventually, TEST_CALL_TIMEOUT_MS } from "../helpers/mesh.js";
import { counts, hostSubscribers } from "../pubsub/helpers.js";

const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");

const heard: string[] = [];

/** Jobs enqueued at the edge run at the hub. */
class Stamper extends Actor {
  async stamp(n: number): Promise<string> {
    return `stamped ${n} at the hub`;
  }
}

/** Hosted at the edge. */
class Till extends Actor {
  @subscribe("sales.>", { key: (s: { id: string }) => s.id, startAt: "all" })
  async onSale(s: { id: string }) {
    heard.push(s.id);
  }
}

test.serial(
  "edge sites - jobs and events appended to an outbox before it reached the edge are forwarded naming the edge's domain: the job's result comes back, the event is heard once",
  async (t) => {
    const site = await startEdgeSite({ domain: "site-o" });
    t.teardown(() => site.cleanup());
    const open = async (servers: string, name: string, extra = {}): Promise<Mesh> => {
      const m = await connect({ servers, name, logger, defaultTimeoutMs: TEST_CALL_TIMEOUT_MS, ...extra });
      t.teardown(() => m.close());
      return m;
    };
    const hub = await open(site.hub.url, "hub");
    const edge = await open(site.edge.url, "edge");
    await edgeSite(edge, { jobs: ["Stamper"], hubDomain: site.hubDomain, hubEvents: true });
    await edgeLink(hub, { domain: site.domain, jobs: ["Stamper"] });
    const hubHost = await hub.host([Stamper]);
    t.teardown(() => hubHost.drain());
    await hostSubscribers(t, edge, [Till]);

    // The edge's server is down: the outbox process starts without ever reaching it.
    await site.edge.stop();
    const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-edge-outbox-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const device = await open(site.edge.url, "device", { outbox: { path: dir } });
    const job = await device.enqueue(Stamper, "s").stamp(7);
    const receipt = await device.publish("sales.o1", { id: "o1" });
    t.true(receipt.queued === true, "appended to the outbox, not sent");
    t.is(device.outbox?.status().pending, 2);

    await site.edge.restart();
    await site.waitForLink(true);
    await eventually(() => device.outbox?.status().pending === 0, 60_000, "the outbox to drain");
    t.is(await job.result({ timeoutMs: 90_000 }), "stamped 7 at the hub");

    // Settled: the hub's copy of the event came back to the edge, and the edge's subscriber took it.
    const edgeQ = jetStreamQueues(edge.transport);
    await eventually(
      async () => {
        const [copy, consumer] = await Promise.all([
          edgeQ.streamCounts("troupe_hub_events"),
          edgeQ.consumerCounts("troupe_hub_events", "Till_onSale"),
        ]);
        return (
          copy?.messages === 1 && consumer?.pending === 0 && consumer.ackPending === 0 && heard.includes("o1")
        );
      },
      90_000,
      "the event's copy from the hub taken by the edge's subscriber",
    );
    t.deepEqual([...counts(heard).entries()], [["o1", 1]]);
  },
);
