/**
 * MQTT devices at an edge site (docs/patterns/edge-sites.md#mqtt-devices-at-the-edge): what a device
 * attached to the edge's nats-server publishes lands in the edge's devices stream and reaches the
 * hub's subscribers through the hub's devices stream sourcing it, exactly once, across a cut of
 * the link. The other way, an actor's QoS 1 publish at the hub reaches edge devices while the link
 * is up, and commands published at the hub as events reach them across a cut through an edge actor
 * relaying the hub's events. Hub + edge nats-servers on loopback (MQTT listeners on), joined by a
 * link the test cuts; the devices are mqtt.js clients.
 */
import test, { type ExecutionContext } from "ava";
import mqtt from "mqtt";
import {
  Actor,
  connect,
  consoleLogger,
  type DeviceMessage,
  edgeLink,
  edgeLinkDenyList,
  edgeLinkStatus,
  edgeSite,
  leafRemoteConfig,
  type Mesh,
  subscribe,
} from "troupe";
import { startEdgeSite } from "troupe/testing";
import { jetStreamQueues } from "../../runtime/transport/index.js";
import { eventually, TEST_CALL_TIMEOUT_MS } from "../helpers/mesh.js";
import { counts, hostSubscribers } from "../pubsub/helpers.js";

const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");
const TELEMETRY = "plant/+/telemetry";

const seenAtHub: string[] = [];

/** Hosted at the hub: one actor per device at the edge. */
class Meter extends Actor {
  @subscribe(TELEMETRY, {
    mqtt: true,
    key: (m: DeviceMessage<{ n: number }>) => m.topic.split("/")[1] as string,
  })
  async onTelemetry(m: DeviceMessage<{ n: number }>) {
    seenAtHub.push(`${this.id}:${m.payload.n}:${m.qos}`);
  }
}

interface Command {
  valve: string;
  action: string;
}

/** Hosted at the edge: relays commands published at the hub (hub events) to the valve over MQTT. */
class ValveCommands extends Actor {
  @subscribe("valves.command", { key: (c: Command) => c.valve })
  async relay(c: Command) {
    await this.publish(`plant/${c.valve}/commands`, c.action, { mqtt: true });
  }
}

async function open(t: ExecutionContext, servers: string, name: string): Promise<Mesh> {
  const m = await connect({ servers, name, logger, defaultTimeoutMs: TEST_CALL_TIMEOUT_MS });
  t.teardown(() => m.close());
  return m;
}

async function device(t: ExecutionContext, url: string, clientId: string) {
  const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 0 });
  const messages: string[] = [];
  client.on("message", (topic, payload) => messages.push(`${topic}=${payload.toString()}`));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  t.teardown(() => client.endAsync(true));
  return { client, messages };
}

test.serial(
  "edge sites - what an MQTT device at the edge publishes while the link is cut reaches the hub's subscribers once it is back, each message exactly once",
  async (t) => {
    const devices = [TELEMETRY];
    const site = await startEdgeSite({ domain: "site-d", edgeMqtt: true, devices });
    t.teardown(() => site.cleanup());
    const hub = await open(t, site.hub.url, "hub");
    const edge = await open(t, site.edge.url, "edge");
    await edgeSite(edge, { devices });
    await edgeLink(hub, { domain: site.domain, devices });
    const subs = await hostSubscribers(t, hub, [Meter]);
    const dev = await device(t, site.edgeMqttUrl as string, "pump-1");
    const send = (n: number) =>
      dev.client.publishAsync("plant/pump-1/telemetry", JSON.stringify({ n }), { qos: 1 });

    // Link up: the message crosses by sourcing only, so it is stored at the hub once.
    for (const n of [1, 2, 3]) await send(n);
    await eventually(() => seenAtHub.length >= 3, 60_000, "the first three readings at the hub");

    site.link.cut();
    await site.waitForLink(false);
    for (const n of [4, 5, 6, 7, 8]) await send(n); // PUBACKed by the edge's server
    const edgeQ = jetStreamQueues(edge.transport);
    t.is((await edgeQ.streamCounts("troupe_devices"))?.messages, 8, "kept at the edge while cut");
    const [cutStatus] = await edgeLinkStatus(hub, { domain: site.domain, events: false, devices });
    t.is(cutStatus?.stream, "troupe_devices");

    site.link.restore();
    await site.waitForLink(true);
    const hubQ = jetStreamQueues(hub.transport);
    await eventually(
      async () => {
        const [stored, consumer, [link]] = await Promise.all([
          hubQ.streamCounts("troupe_devices"),
          hubQ.consumerCounts("troupe_devices", "Meter_onTelemetry"),
          edgeLinkStatus(hub, { domain: site.domain, events: false, devices }),
        ]);
        return (
          link?.lag === 0 &&
          (stored?.messages ?? 0) >= 8 &&
          consumer?.pending === 0 &&
          consumer.ackPending === 0 &&
          seenAtHub.length >= 8
        );
      },
      90_000,
      "the hub to catch up with the edge's devices after the link came back",
    );
    const expected = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `pump-1:${n}:1`);
    t.deepEqual(
      [...counts(seenAtHub).entries()].sort(),
      expected.map((id) => [id, 1]).sort(),
      "every reading handled once at the hub, with the device's QoS",
    );
    t.is((await hubQ.streamCounts("troupe_devices"))?.messages, 8, "stored once at the hub");
    t.is(subs.stats("Meter_onTelemetry")?.handled, 8);
  },
);

test.serial(
  "edge sites - an actor's QoS 1 publish at the hub reaches a device at the edge while the link is up; the MQTT listeners' sessions and retained messages stay on their side",
  async (t) => {
    const site = await startEdgeSite({ domain: "site-c", edgeMqtt: true, hubMqtt: true });
    t.teardown(() => site.cleanup());
    const hub = await open(t, site.hub.url, "hub");
    const edge = await open(t, site.edge.url, "edge");
    const atEdge = await device(t, site.edgeMqttUrl as string, "valve-1");
    await atEdge.client.subscribeAsync("plant/valve-1/commands", { qos: 1 });
    const atHub = await device(t, site.hubMqttUrl as string, "console-1"); // makes the hub's MQTT streams
    await atHub.client.subscribeAsync("plant/valve-1/marker", { qos: 0 });

    // The edge's listener stores the hub's QoS 1 publish too (`$MQTT.msgs.>` crosses the link).
    await eventually(
      async () => {
        await hub.publish("plant/valve-1/commands", "close", { mqtt: true, msgId: "close-1" });
        return atEdge.messages.includes("plant/valve-1/commands=close");
      },
      30_000,
      "the command at the edge's device",
    );
    await hub.publish("plant/valve-1/commands", "vent", { mqtt: { qos: 0 } });
    await eventually(() => atEdge.messages.includes("plant/valve-1/commands=vent"), 30_000, "QoS 0 too");
    // A persistent session whose device is offline gets it when the device is back.
    const offline = await device(t, site.edgeMqttUrl as string, "valve-9");
    await offline.client.subscribeAsync("plant/valve-9/commands", { qos: 1 });
    await offline.client.endAsync(); // the session stays (clean: false)
    await hub.publish("plant/valve-9/commands", "lock", { mqtt: true });
    const back = await device(t, site.edgeMqttUrl as string, "valve-9");
    await eventually(() => back.messages.length > 0, 30_000, "the command kept for the offline device");
    t.deepEqual(back.messages, ["plant/valve-9/commands=lock"]);

    // A retained message at the edge, then a message after it on the same connection: once the
    // hub's device got the second, the first would have reached the hub's listener, were it let through.
    const edgeQ = jetStreamQueues(edge.transport);
    const hubQ = jetStreamQueues(hub.transport);
    await atEdge.client.publishAsync("plant/valve-1/state", "open", { qos: 1, retain: true });
    await atEdge.client.publishAsync("plant/valve-1/marker", "after", { qos: 1 });
    await eventually(() => atHub.messages.length > 0, 30_000, "the marker at the hub's device");
    t.is((await edgeQ.streamCounts("$MQTT_rmsgs"))?.messages, 1, "the retained message, at the edge");
    t.is((await hubQ.streamCounts("$MQTT_rmsgs"))?.messages ?? 0, 0, "and not at the hub");
  },
);

test.serial(
  "edge sites - a command published at the hub while the link is cut reaches a device at the edge once it is back, relayed by an edge actor from the hub's events",
  async (t) => {
    const site = await startEdgeSite({ domain: "site-r", edgeMqtt: true });
    t.teardown(() => site.cleanup());
    const hub = await open(t, site.hub.url, "hub");
    const edge = await open(t, site.edge.url, "edge");
    await edgeSite(edge, { hubDomain: site.hubDomain, hubEvents: "valves.>" });
    await hostSubscribers(t, edge, [ValveCommands]);
    const valve = await device(t, site.edgeMqttUrl as string, "valve-2");
    await valve.client.subscribeAsync("plant/valve-2/commands", { qos: 1 });

    await hub.publish("valves.command", { valve: "valve-2", action: "open" }, { msgId: "c1" });
    await eventually(() => valve.messages.length === 1, 60_000, "the first command at the valve");

    site.link.cut();
    await site.waitForLink(false);
    await hub.publish("valves.command", { valve: "valve-2", action: "close" }, { msgId: "c2" });
    await hub.publish("valves.command", { valve: "valve-2", action: "vent" }, { msgId: "c3" });
    t.deepEqual(valve.messages, ["plant/valve-2/commands=open"], "nothing crosses a cut link");

    site.link.restore();
    await site.waitForLink(true);
    await eventually(
      async () => {
        const consumer = await jetStreamQueues(edge.transport).consumerCounts(
          "troupe_hub_events",
          "ValveCommands_relay",
        );
        return valve.messages.length >= 3 && consumer?.pending === 0 && consumer.ackPending === 0;
      },
      90_000,
      "the commands sent while the link was cut",
    );
    t.deepEqual(valve.messages, [
      "plant/valve-2/commands=open",
      "plant/valve-2/commands=close",
      "plant/valve-2/commands=vent",
    ]);
  },
);

test("edge sites - the link's deny list keeps forwarded device topics and the MQTT listener's state off the live link", (t) => {
  const list = edgeLinkDenyList("troupe", {
    devices: ["plant/+/telemetry", "meters/#", "plant/+/telemetry"],
  });
  t.deepEqual(list, [
    "troupe.>",
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
    "plant.*.telemetry",
    "meters.>",
  ]);
  t.true(
    leafRemoteConfig("nats-leaf://hub:7422", "troupe", { devices: ["meters/#"] }).includes('"meters.>"'),
  );
  t.throws(() => edgeLinkDenyList("troupe", { devices: ["#"] }), { message: /first level/ });
});
