/**
 * Least privilege with MQTT devices: a nats-server with its MQTT listener on whose only users are
 * the ones `troupe auth gen --devices` writes. A host (user troupe-host) serves an actor with a
 * durable MQTT `@subscribe` and an ephemeral one and publishes to devices with QoS 1 and QoS 0; a
 * device (an MQTT client, user troupe-device) publishes telemetry and receives the commands. No
 * permissions violation is logged, and the device user can neither publish nor subscribe outside
 * its topics.
 */
import test from "ava";
import mqtt from "mqtt";
import { Actor, type DeviceMessage, subscribe } from "troupe";
import { reservePorts } from "troupe/testing";
import { DEVICE_USER } from "../../runtime/cli/device-permissions.js";
import { PERMISSION_VIOLATION } from "../../runtime/transport/permission-log.js";
import { recordingLogger } from "../helpers/logger.js";
import { connectAs, passwordOf, startAuthorizedServer } from "./authorized-server.js";
import { eventually } from "./processes.js";

const seen: string[] = [];
const live: string[] = [];

class Meter extends Actor<{ readings: number }> {
  static initialState = () => ({ readings: 0 });

  @subscribe("meters/+/telemetry", {
    mqtt: true,
    key: (m: DeviceMessage<{ kwh: number }>) => m.topic.split("/")[1] as string,
    startAt: "all",
  })
  async onTelemetry(m: DeviceMessage<{ kwh: number }>) {
    this.state.readings++;
    seen.push(`${this.id}:${m.payload.kwh}`);
  }

  @subscribe("meters/+/alarms", { mqtt: { payload: "text" }, durable: false, key: () => "alarms" })
  async onAlarm(m: DeviceMessage<string>) {
    live.push(m.payload);
  }

  async command(text: string, qos: 0 | 1): Promise<void> {
    await this.publish(`meters/${this.id}/commands`, text, { mqtt: { qos } });
  }
}

test("mqtt permissions - a host with an MQTT @subscribe and device publishes, and a device, work with their generated permissions only", async (t) => {
  t.timeout(120_000);
  const prefix = `mqa${process.pid}`;
  const [mqttPort] = await reservePorts(1);
  const { server, violations } = await startAuthorizedServer(
    t,
    { prefix, types: ["Meter"], devices: ["meters/#"] },
    { serverName: "mqtt-auth", mqttPort },
  );
  t.teardown(() => {
    if (!t.passed) t.log(violations().join("\n"));
  });

  const { logger, entries } = recordingLogger();
  const mesh = await connectAs(t, server, prefix, "host", { logger, defaultTimeoutMs: 30_000 });
  const host = await mesh.host([Meter]);
  t.teardown(() => host.drain());

  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: "meter-1",
    clean: false,
    reconnectPeriod: 0,
    username: DEVICE_USER,
    password: passwordOf("device"),
  });
  t.teardown(() => device.endAsync(true));
  const commands: string[] = [];
  device.on("message", (_topic, payload) => commands.push(payload.toString()));
  await device.subscribeAsync("meters/meter-1/commands", { qos: 1 });
  await device.publishAsync("meters/meter-1/telemetry", JSON.stringify({ kwh: 3 }), { qos: 1 });
  await eventually("the durable MQTT subscriber's reading", async () =>
    seen.includes("meter-1:3") ? true : undefined,
  );
  await eventually("the ephemeral MQTT subscriber's alarm", async () => {
    await device.publishAsync("meters/meter-1/alarms", "hot", { qos: 0 });
    return live.includes("hot") ? true : undefined;
  });
  await mesh.ref(Meter, "meter-1").command("qos1", 1);
  await mesh.ref(Meter, "meter-1").command("qos0", 0);
  await eventually("both commands at the device", async () =>
    commands.includes("qos1") && commands.includes("qos0") ? true : undefined,
  );

  t.deepEqual(violations(), [], "neither the host nor the device needed a subject outside its permissions");
  t.false(entries.some((e) => e.msg === PERMISSION_VIOLATION));

  // The device user is confined to its topics: a publish elsewhere is refused by the server.
  await device.publishAsync(`${prefix}/rpc/Meter/0`, "x", { qos: 0 }).catch(() => undefined);
  await eventually("the device's refused publish in the server log", async () =>
    violations().some((l) => l.includes(`${prefix}.rpc.Meter.0`)) ? true : undefined,
  );
});
