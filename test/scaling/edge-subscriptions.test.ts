/**
 * Scaling counts every place a durable subscription waits: at an edge site, the hub's events copied
 * to `<prefix>_hub_events` and what MQTT devices published to `<prefix>_devices` are backlog of the
 * subscribing type's group, beside the site's own events (runtime/pubsub/loads.ts).
 */
import test from "ava";
import mqtt from "mqtt";
import { Actor, connect, consoleLogger, type DeviceMessage, edgeSite, subscribe } from "troupe";
import { subscriptionLoads } from "troupe/internal";
import { startEdgeSite } from "troupe/testing";
import { inboxPrefixOf, natsUser, permissionsFor } from "../../runtime/cli/nats-permissions.js";
import { jetStreamQueues } from "../../runtime/transport/index.js";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import { PERMISSION_VIOLATION } from "../../runtime/transport/permission-log.js";
import { type ScalingHostView, ScalingMonitor } from "../../services/control-plane/scaling/index.js";
import { openTransport } from "../control-plane/helpers.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";

class Shelf extends Actor {
  @subscribe("prices.>", { key: (p: { id: string }) => p.id })
  async onPrice(_p: { id: string }) {}

  @subscribe("shelf/+/weight", { mqtt: true, key: (m: DeviceMessage) => m.topic.split("/")[1] as string })
  async onWeight(_m: DeviceMessage) {}
}

test("scaling at an edge site - the hub's events and the devices' messages waiting for a group's subscriber are its backlog", async (t) => {
  const devices = ["shelf/+/weight"];
  const site = await startEdgeSite({ domain: "site-s", edgeMqtt: true, devices });
  t.teardown(() => site.cleanup());
  const logger = consoleLogger("silent");
  const hub = await connect({ servers: site.hub.url, logger });
  t.teardown(() => hub.close());
  const edge = await connect({ servers: site.edge.url, logger });
  t.teardown(() => edge.close());
  await edgeSite(edge, { hubDomain: site.hubDomain, hubEvents: true, devices });
  // The host runs once (its durable consumers stay), then is gone: everything after waits.
  const once = await edge.host([Shelf]);
  await once.drain();

  for (let i = 0; i < 6; i++) await hub.publish(`prices.p${i}`, { id: `p${i}` });
  const scale = await mqtt.connectAsync(site.edgeMqttUrl as string, {
    clientId: "scale-1",
    reconnectPeriod: 0,
  });
  t.teardown(() => scale.endAsync(true));
  for (let i = 0; i < 4; i++)
    await scale.publishAsync("shelf/s1/weight", JSON.stringify({ g: i }), { qos: 1 });
  await eventually(
    async () => (await jetStreamQueues(edge.transport).streamCounts("troupe_hub_events"))?.messages === 6,
    60_000,
    "the hub's events copied to the edge",
  );

  const transport = await openTransport(t, site.edge.url);
  const rows = await subscriptionLoads(transport, "troupe");
  t.deepEqual(rows.map((r) => [r.name, r.type, r.load.pending + r.load.ackPending]).sort(), [
    ["devices.Shelf_onWeight", "Shelf", 4],
    ["events.Shelf_onPrice", "Shelf", 0],
    ["hub_events.Shelf_onPrice", "Shelf", 6],
  ]);

  const hosts: ScalingHostView[] = [
    {
      hostId: "h1",
      group: "shelves",
      actorTypes: ["Shelf"],
      load: { mailboxDepth: 0, turnsInFlight: 0, cpu: 0, draining: false, jobCapacity: 4 },
      throttledPerSecond: 0,
    },
  ];
  const monitor = new ScalingMonitor({
    transport,
    prefix: "troupe",
    intervalMs: 1000,
    hosts: () => hosts,
    logger,
    warmUpMs: 0,
  });
  t.teardown(() => monitor.stop());
  await monitor.tick();
  const decision = monitor.decision("shelves");
  t.is(decision?.backlog, 10, decision?.reason);
  t.regex(decision?.reason ?? "", /hub_events\.Shelf_onPrice: backlog 6|devices\.Shelf_onWeight: backlog 4/);
});

test("scaling - a control plane whose NATS user predates the devices and hub-events listings still reads the events backlog", async (t) => {
  const prefix = "older";
  const granted = permissionsFor("control-plane", { prefix }).publish.filter(
    (s) =>
      s !== `$JS.API.CONSUMER.LIST.${prefix}_devices` && s !== `$JS.API.CONSUMER.LIST.${prefix}_hub_events`,
  );
  const q = (s: string) => JSON.stringify(s);
  const user = natsUser("control-plane");
  const server = await startServer(t, {
    jetstream: true,
    extraConfig: [
      "authorization {",
      "  users = [",
      '    { user: "admin", password: "admin-pw" }',
      `    { user: ${q(user)}, password: "cp-pw", permissions: { publish: [${granted.map(q).join(", ")}], subscribe: [${q(`${inboxPrefixOf("control-plane")}.>`)}] } }`,
      "  ]",
      "}",
    ].join("\n"),
  });
  const logger = consoleLogger("silent");
  const admin = await connect({ servers: server.url, prefix, user: "admin", pass: "admin-pw", logger });
  t.teardown(() => admin.close());
  const host = await admin.host([Shelf]); // its consumers on the events and devices streams
  await host.drain();
  for (let i = 0; i < 3; i++) await admin.publish(`prices.p${i}`, { id: `p${i}` });

  const recorded = recordingLogger();
  const transport = await NatsTransport.connect(
    { servers: server.url, user, pass: "cp-pw", inboxPrefix: inboxPrefixOf("control-plane") },
    recorded.logger,
  );
  t.teardown(() => transport.close());
  const rows = await subscriptionLoads(transport, prefix);
  t.deepEqual(
    rows.map((r) => [r.name, r.load.pending]),
    [["events.Shelf_onPrice", 3]],
  );
  await eventually(
    () =>
      recorded.entries.some(
        (e) =>
          e.msg === PERMISSION_VIOLATION && e.fields?.subject === `$JS.API.CONSUMER.LIST.${prefix}_devices`,
      ),
    10_000,
    "the refusal logged",
  );
});
