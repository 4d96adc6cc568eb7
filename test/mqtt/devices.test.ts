/**
 * MQTT devices (docs/patterns/mqtt-devices.md) against a real nats-server with its MQTT listener on,
 * with a real MQTT client (mqtt.js) as the device.
 */
import test from "ava";
import mqtt from "mqtt";
import {
  Actor,
  ConfigurationError,
  connect,
  consoleLogger,
  type DeviceMessage,
  type Mesh,
  subscribe,
} from "troupe";
import { reservePorts, startNatsServer } from "troupe/testing";
import { deadLetters } from "../../runtime/jobs/index.js";
import {
  listSubscriptions,
  mqttFilterToSubject,
  mqttTopicToSubject,
  subjectToMqttTopic,
} from "../../runtime/pubsub/index.js";
import { thermostatExample } from "../../services/examples/mqtt/thermostats.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { counts } from "../pubsub/helpers.js";

interface Reading {
  n: number;
}

const received: Array<{ device: string; n: number; qos: number | undefined }> = [];

/** One actor per device. */
class Sensor extends Actor {
  @subscribe("plant/+/readings", {
    mqtt: true,
    key: (m: DeviceMessage<Reading>) => m.topic.split("/")[1] as string,
    maxAttempts: 3,
  })
  async onReading(m: DeviceMessage<Reading>) {
    received.push({ device: this.id, n: m.payload.n, qos: m.qos });
  }

  async command(text: string): Promise<void> {
    await this.publish(`plant/${this.id}/commands`, text, { mqtt: { qos: 1 } });
  }
}

async function mqttServer(t: import("ava").ExecutionContext) {
  const [mqttPort] = await reservePorts(1);
  const server = await startNatsServer({ serverName: "mqtt-test", mqttPort });
  t.teardown(() => server.cleanup());
  return { server, mqttUrl: `mqtt://127.0.0.1:${mqttPort}` };
}

async function device(t: import("ava").ExecutionContext, url: string, clientId: string) {
  const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 0 });
  const messages: string[] = [];
  client.on("message", (_topic, payload) => messages.push(payload.toString()));
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  t.teardown(() => client.endAsync(true));
  return { client, messages };
}

test("mqtt devices - the example's thermostat reports and is told to turn its fan on", async (t) => {
  const { server, mqttUrl } = await mqttServer(t);
  const { mesh } = await startMeshOn(t, server.url);
  const lines: string[] = [];
  await thermostatExample(mesh, mqttUrl, (l) => lines.push(l));
  t.deepEqual(lines, ['device got: {"fan":"on"}', "thermostat-7: 2 readings, last 27 °C"]);
});

test("mqtt devices - a device publishes while the subscribing host is down; the host gets everything once, a malformed payload is dead-lettered", async (t) => {
  const { server, mqttUrl } = await mqttServer(t);
  const { mesh } = await startMeshOn(t, server.url);
  // The host runs once (creating the devices stream and its consumer), then goes away.
  const first = await mesh.host([Sensor]);
  await first.drain();

  const dev = await device(t, mqttUrl, "sensor-a");
  for (let n = 1; n <= 8; n++) {
    await dev.client.publishAsync("plant/sensor-a/readings", JSON.stringify({ n }), { qos: 1 });
  }
  await dev.client.publishAsync("plant/sensor-a/readings", "{not json", { qos: 1 });
  t.is(received.filter((r) => r.device === "sensor-a").length, 0, "no host, no handler");

  const again = await mesh.host([Sensor]);
  t.teardown(() => again.drain());
  await eventually(() => received.filter((r) => r.device === "sensor-a").length >= 8, 60_000, "8 readings");
  const dlq: string[] = [];
  await eventually(
    async () => {
      dlq.length = 0;
      for await (const d of deadLetters(mesh, { type: "Sensor" })) dlq.push(`${d.reason}:${d.attempts}`);
      return dlq.length >= 1;
    },
    30_000,
    "the malformed payload's dead letter",
  );
  t.deepEqual(dlq, ["malformed:1"]);
  // `troupe subs ls` lists MQTT subscriptions too, with the device backlog.
  const rows = (await listSubscriptions(mesh)).filter((r) => r.mqtt);
  t.deepEqual(
    rows.map((r) => [r.type, r.pattern]),
    [["Sensor", "plant/+/readings"]],
  );
  const mine = received.filter((r) => r.device === "sensor-a");
  t.deepEqual([...counts(mine.map((r) => String(r.n))).entries()].sort(), [
    ["1", 1],
    ["2", 1],
    ["3", 1],
    ["4", 1],
    ["5", 1],
    ["6", 1],
    ["7", 1],
    ["8", 1],
  ]);
  t.true(
    mine.every((r) => r.qos === 1),
    "the device's QoS travels with the message",
  );
});

test("mqtt devices - an actor's QoS 1 publish reaches a device online, and one offline when it reconnects", async (t) => {
  const { server, mqttUrl } = await mqttServer(t);
  const { mesh } = await startMeshOn(t, server.url);
  const host = await mesh.host([Sensor]);
  t.teardown(() => host.drain());
  const first = await device(t, mqttUrl, "sensor-b");
  await first.client.subscribeAsync("plant/sensor-b/commands", { qos: 1 });
  await mesh.ref(Sensor, "sensor-b").command("calibrate");
  await eventually(() => first.messages.includes("calibrate"), 30_000, "the online command");

  await first.client.endAsync(); // the session stays (clean: false)
  await mesh.ref(Sensor, "sensor-b").command("reboot");
  const back = await device(t, mqttUrl, "sensor-b");
  await eventually(() => back.messages.includes("reboot"), 30_000, "the command kept for the offline device");
  t.deepEqual(back.messages, ["reboot"]);
  t.deepEqual(first.messages, ["calibrate"]);
});

test("mqtt devices - topic mapping and bad topics", async (t) => {
  t.is(mqttFilterToSubject("devices/+/telemetry"), "devices.*.telemetry");
  t.is(mqttFilterToSubject("devices/#"), "devices.>");
  t.is(mqttTopicToSubject("devices/d-7/commands"), "devices.d-7.commands");
  t.is(subjectToMqttTopic("devices.d-7.telemetry"), "devices/d-7/telemetry");
  t.throws(() => mqttFilterToSubject("#"), { instanceOf: ConfigurationError });
  t.throws(() => mqttFilterToSubject("+/x"), { instanceOf: ConfigurationError });
  t.throws(() => mqttFilterToSubject("a/#/b"), { instanceOf: ConfigurationError });
  t.throws(() => mqttTopicToSubject("a/+/b"), { instanceOf: ConfigurationError });
  // A "." in a level is "//" in the subject, as nats-server (2.10+) maps it; both ways.
  t.is(mqttTopicToSubject("spBv1.0/plant1"), "spBv1//0.plant1");
  t.is(subjectToMqttTopic("spBv1//0.plant1"), "spBv1.0/plant1");
  t.is(mqttFilterToSubject("site.eu/+/a.b.c/#"), "site//eu.*.a//b//c.>");
  t.is(subjectToMqttTopic(mqttTopicToSubject("a..b/.c")), "a..b/.c");
  t.throws(() => mqttTopicToSubject("a b/c"), { instanceOf: ConfigurationError });
  t.throws(() => mqttTopicToSubject("a//c"), { instanceOf: ConfigurationError });
  t.throws(() => subscribe("a/b", { mqtt: { payload: "xml" as "json" } }), {
    instanceOf: ConfigurationError,
  });
  const { mesh } = await startMesh(t);
  await t.throwsAsync(mesh.publish("a/b c", "x", { mqtt: true }), { instanceOf: ConfigurationError });
});

async function startMeshOn(t: import("ava").ExecutionContext, url: string): Promise<{ mesh: Mesh }> {
  const mesh = await connect({
    servers: url,
    logger: consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent"),
    defaultTimeoutMs: 30_000,
  });
  t.teardown(() => mesh.close());
  return { mesh };
}
