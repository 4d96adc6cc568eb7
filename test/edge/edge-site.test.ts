/**
 * Edge sites (docs/patterns/edge-sites.md): a hub nats-server and an edge nats-server (a leaf node
 * with its own JetStream domain) on loopback, joined by a TCP link the test cuts. Both servers keep
 * running while the link is down.
 */
import test from "ava";
import {
  Actor,
  ConfigurationError,
  connect,
  consoleLogger,
  edgeLink,
  edgeLinkDenyList,
  edgeLinkStatus,
  edgeSite,
  JobResultUnavailableError,
  leafRemoteConfig,
  type Mesh,
  subscribe,
} from "troupe";
import { startEdgeSite } from "troupe/testing";
import { jetStreamQueues } from "../../runtime/transport/index.js";
import { edgeExample, STORE_DEVICES, seenAtHub } from "../../services/examples/edge/store.js";
import { eventually, TEST_CALL_TIMEOUT_MS } from "../helpers/mesh.js";
import { counts } from "../pubsub/helpers.js";

const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");

interface Reading {
  id: string;
}

const heard: string[] = [];
const ran: string[] = [];

/** Hosted at the edge: must keep answering while the link is down. */
class Counter extends Actor<{ n: number }> {
  static initialState = () => ({ n: 0 });
  async bump(): Promise<number> {
    return ++this.state.n;
  }
}

/** Hosted at the hub. */
class Collector extends Actor {
  @subscribe("readings.>", { key: (r: Reading) => r.id, startAt: "all" })
  async onReading(r: Reading) {
    heard.push(r.id);
  }
}

/** Jobs enqueued at the edge run at the hub. */
class Archiver extends Actor {
  async archive(r: Reading): Promise<void> {
    ran.push(r.id);
  }
}

/** Jobs enqueued at the edge, run at the hub; `gate` holds a turn until the test opens it. */
let gate: Promise<void> = Promise.resolve();
let pricing = 0;
class Pricer extends Actor {
  async price(cents: number): Promise<string> {
    pricing++;
    await gate;
    return `hub priced ${cents * 2}`;
  }
}

async function meshes(t: import("ava").ExecutionContext, hubUrl: string, edgeUrl: string) {
  const open = async (servers: string, name: string): Promise<Mesh> => {
    const m = await connect({ servers, name, logger, defaultTimeoutMs: TEST_CALL_TIMEOUT_MS });
    t.teardown(() => m.close());
    return m;
  };
  return { hub: await open(hubUrl, "hub"), edge: await open(edgeUrl, "edge") };
}

test.serial(
  "edge sites - the example's till sells through a cut link; the hub gets each sale, invoice and door count once, the edge an invoice's result and the price the hub changed meanwhile",
  async (t) => {
    const site = await startEdgeSite({ domain: "store-1", edgeMqtt: true, devices: STORE_DEVICES });
    t.teardown(() => site.cleanup());
    const { hub, edge } = await meshes(t, site.hub.url, site.edge.url);
    const lines: string[] = [];
    await edgeExample(site, hub, edge, (l) => lines.push(l));
    t.deepEqual(lines, [
      "link up: hub saw 2 sales, 2 invoices, 2 visitors; tea costs 250 at the till",
      "link down: the till sold 6 in all; hub saw 2 sales, 2 visitors; tea still costs 250 at the till",
      "link back: hub saw 6 sales, 7 invoices, 5 visitors; tea costs 275 at the till",
      "the edge got: invoice for s6-copy",
    ]);
    t.deepEqual([...counts(seenAtHub.sales).values()], [1, 1, 1, 1, 1, 1]);
    t.deepEqual([...counts(seenAtHub.invoices).values()], [1, 1, 1, 1, 1, 1, 1]);
    t.deepEqual(
      [...seenAtHub.visits].sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
    );
  },
);

test.serial(
  "edge sites - events and jobs published at the edge while the link is down reach the hub exactly once",
  async (t) => {
    const site = await startEdgeSite({ domain: "site-a" });
    t.teardown(() => site.cleanup());
    const { hub, edge } = await meshes(t, site.hub.url, site.edge.url);
    await edgeSite(edge, { jobs: ["Archiver"] });
    const linked = await edgeLink(hub, { domain: "site-a", jobs: ["Archiver"] });
    t.deepEqual(
      linked.map((s) => [s.stream, s.added]),
      [
        ["troupe_events", true],
        ["troupe_jobs_Archiver", true],
      ],
    );
    // Idempotent: a second run adds nothing.
    t.true((await edgeLink(hub, { domain: "site-a", jobs: ["Archiver"] })).every((s) => !s.added));
    const hubHost = await hub.host([Collector, Archiver]);
    const edgeHost = await edge.host([Counter]);
    t.teardown(async () => {
      await edgeHost.drain();
      await hubHost.drain();
    });
    const counter = edge.ref(Counter, "c1");
    const send = async (id: string, msgId: boolean) => {
      await edge.publish(`readings.${id}`, { id }, msgId ? { msgId: `r-${id}` } : {});
      await edge.enqueue(Archiver, "archive").archive({ id });
    };

    await send("up-1", false); // no message id: only the deny list keeps it from being stored twice at the hub
    await eventually(
      () => heard.includes("up-1") && ran.includes("up-1"),
      60_000,
      "the first reading at the hub",
    );

    site.link.cut();
    await site.waitForLink(false);
    const offline = Array.from({ length: 12 }, (_, i) => `down-${i}`);
    for (const [i, id] of offline.entries()) {
      await send(id, i % 2 === 0); // half with a message id, half without
      t.is(await counter.bump(), i + 1, "the edge host keeps serving calls to its actors");
    }
    // A producer's resend with the same message id is stored once at the edge.
    const again = await edge.publish("readings.down-0", { id: "down-0" }, { msgId: "r-down-0" });
    t.true(again.duplicate);
    t.false(
      heard.some((id) => id.startsWith("down-")),
      "nothing crosses a cut link",
    );

    site.link.restore();
    await site.waitForLink(true);
    const all = ["up-1", ...offline];
    await eventually(
      async () => {
        const status = await edgeLinkStatus(hub, { domain: "site-a", jobs: ["Archiver"] });
        return (
          status.every((s) => s.lag === 0 && !s.error) &&
          all.every((id) => heard.includes(id) && ran.includes(id))
        );
      },
      90_000,
      "the hub to catch up after the link came back",
    );
    // The hub stored each event once (every one, with or without a message id).
    const q = jetStreamQueues(hub.transport);
    t.is((await q.streamCounts("troupe_events"))?.messages, all.length);
    // Every handler ran once per reading; nothing arrives twice after the lag reached zero.
    const heardCounts = counts(heard.filter((id) => all.includes(id)));
    const ranCounts = counts(ran.filter((id) => all.includes(id)));
    t.deepEqual([...heardCounts.keys()].sort(), [...all].sort());
    t.true(
      [...heardCounts.values()].every((n) => n === 1),
      JSON.stringify([...heardCounts]),
    );
    t.true(
      [...ranCounts.values()].every((n) => n === 1) && ranCounts.size === all.length,
      JSON.stringify([...ranCounts]),
    );
    // The edge keeps its forwarded jobs (limits retention) until their max age.
    t.is((await jetStreamQueues(edge.transport).streamCounts("troupe_jobs_Archiver"))?.messages, all.length);
  },
);

test("edge sites - edgeSite refuses a forwarded type whose edge stream is already a work queue", async (t) => {
  const site = await startEdgeSite({ domain: "site-b" });
  t.teardown(() => site.cleanup());
  const { edge } = await meshes(t, site.hub.url, site.edge.url);
  await edge.enqueue(Archiver, "archive").archive({ id: "early" }); // creates the usual work queue
  await t.throwsAsync(edgeSite(edge, { jobs: ["Archiver"] }), {
    instanceOf: ConfigurationError,
    message: /work queue/,
  });
});

test("edge sites - link configuration: deny list, leaf remote block, bad input", async (t) => {
  t.deepEqual(edgeLinkDenyList("shop"), [
    "shop.>",
    "$KV.>",
    "$JS.ACK.>",
    "$MQTT.rmsgs",
    "$MQTT.rmsgs.>",
    "$MQTT.sess.>",
    "$MQTT.JSA.>",
    "$MQTT.sub.>",
    "$MQTT.qos2.>",
    "$MQTT.out.>",
    "$MQTT.deliver.>",
  ]);
  const conf = leafRemoteConfig("nats-leaf://hub:7422");
  t.regex(conf, /url: "nats-leaf:\/\/hub:7422"/);
  t.regex(conf, /deny_imports: \["troupe\.>", "\$KV\.>", "\$JS\.ACK\.>", "\$MQTT\.rmsgs", /);
  t.regex(conf, /deny_exports: \["troupe\.>"/);
  t.throws(() => edgeLinkDenyList("bad prefix"), { instanceOf: ConfigurationError });
  const fake = {} as Mesh;
  await t.throwsAsync(edgeLink(fake, { domain: "no.dots" }), { instanceOf: ConfigurationError });
});

test.serial(
  "edge sites - a hub restart after its work queue was emptied copies only the jobs it had not copied",
  async (t) => {
    const site = await startEdgeSite({ domain: "site-c" });
    t.teardown(() => site.cleanup());
    const { hub, edge } = await meshes(t, site.hub.url, site.edge.url);
    await edgeSite(edge, { jobs: ["Archiver"] });
    await edgeLink(hub, { domain: "site-c", jobs: ["Archiver"], events: false });
    const hubHost = await hub.host([Archiver]);
    t.teardown(() => hubHost.drain());
    const before = ["c-1", "c-2", "c-3"];
    for (const id of before) await edge.enqueue(Archiver, "archive").archive({ id });
    await eventually(() => before.every((id) => ran.includes(id)), 60_000, "the first jobs at the hub");
    const q = jetStreamQueues(hub.transport);
    await eventually(
      async () => (await q.streamCounts("troupe_jobs_Archiver"))?.messages === 0,
      30_000,
      "an empty hub queue",
    );

    await site.hub.stop(); // the link goes down with it
    const during = ["c-4", "c-5"];
    for (const id of during) await edge.enqueue(Archiver, "archive").archive({ id });
    await site.hub.restart();
    await site.waitForLink(true);
    const all = [...before, ...during];
    await eventually(
      async () => {
        const [s] = await edgeLinkStatus(hub, { domain: "site-c", jobs: ["Archiver"], events: false });
        return s?.lag === 0 && !s.error && all.every((id) => ran.includes(id));
      },
      90_000,
      "the jobs enqueued while the hub was down",
    );
    const ranCounts = counts(ran.filter((id) => all.includes(id)));
    t.deepEqual([...ranCounts.entries()].sort(), all.map((id) => [id, 1]).sort());
  },
);

test.serial(
  "edge sites - job.result() at the edge resolves with the hub's value, also when the job or its result crossed a cut link",
  async (t) => {
    const site = await startEdgeSite({ domain: "site-r" });
    t.teardown(() => site.cleanup());
    const { hub, edge } = await meshes(t, site.hub.url, site.edge.url);
    await edgeSite(edge, { jobs: ["Pricer"], hubDomain: site.hubDomain });
    await edgeLink(hub, { domain: "site-r", jobs: ["Pricer"], events: false });
    const hubHost = await hub.host([Pricer]);
    t.teardown(() => hubHost.drain());
    const pricer = edge.enqueue(Pricer, "p");

    const up = await pricer.price(1);
    t.is(await up.result({ timeoutMs: 60_000 }), "hub priced 2");
    // The hub keeps its own result under the job id, as for any job.
    t.is(await hub.job(up.id).result({ timeoutMs: 0 }), "hub priced 2");

    // Enqueued at the edge while the link is down.
    site.link.cut();
    await site.waitForLink(false);
    const offline = await pricer.price(21);
    await t.throwsAsync(offline.result({ timeoutMs: 0 }), { instanceOf: JobResultUnavailableError });
    site.link.restore();
    await site.waitForLink(true);
    t.is(await offline.result({ timeoutMs: 90_000 }), "hub priced 42");

    // Reached the hub, finished there while the link was down: the result follows when it is back.
    let open = () => {};
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const before = pricing;
    const held = await pricer.price(50);
    await eventually(() => pricing > before, 60_000, "the held job running at the hub");
    site.link.cut();
    await site.waitForLink(false);
    open();
    await eventually(
      async () =>
        (await hub
          .job(held.id)
          .result({ timeoutMs: 0 })
          .catch(() => undefined)) !== undefined,
      30_000,
      "the held job's result at the hub",
    );
    await t.throwsAsync(held.result({ timeoutMs: 0 }), { instanceOf: JobResultUnavailableError });
    site.link.restore();
    await site.waitForLink(true);
    t.is(await held.result({ timeoutMs: 90_000 }), "hub priced 100");
  },
);
