/**
 * MQTT devices (docs/patterns/mqtt-devices.md): thermostats publish telemetry over MQTT to the
 * mesh's nats-server (its MQTT listener on); a Troupe actor per device receives it as a
 * `DeviceMessage` and sends the device a command back over MQTT with QoS 1.
 *
 * Run it: `node --conditions=troupe-source --import tsx services/examples/mqtt/thermostats.ts`
 * (it starts a nats-server with MQTT on a free port; an MQTT client plays the device).
 */
import { pathToFileURL } from "node:url";
import mqtt from "mqtt";
import { Actor, connect, consoleLogger, type DeviceMessage, type Mesh, subscribe } from "troupe";
import { reservePorts, startNatsServer } from "troupe/testing";

export interface Telemetry {
  celsius: number;
}

/** One actor per device: the device id is the topic's second level. */
export class Thermostat extends Actor<{ readings: number; last?: number }> {
  static initialState = () => ({ readings: 0 });

  @subscribe("devices/+/telemetry", {
    mqtt: { payload: "json" },
    key: (m: DeviceMessage<Telemetry>) => m.topic.split("/")[1] as string,
    startAt: "all",
    ordered: true, // readings of all devices one at a time, in the order they were stored
  })
  async onTelemetry(m: DeviceMessage<Telemetry>) {
    this.state.readings++;
    this.state.last = m.payload.celsius;
    if (m.payload.celsius > 25) {
      // To the device, over MQTT, QoS 1: kept for its session until it acknowledges.
      await this.publish(`devices/${this.id}/commands`, { fan: "on" }, { mqtt: true });
    }
  }

  async status(): Promise<{ readings: number; last?: number }> {
    return this.state;
  }
}

/** A device publishes two readings; the second is too warm, so the device is told to turn its fan on. */
export async function thermostatExample(
  mesh: Mesh,
  mqttUrl: string,
  log: (line: string) => void,
): Promise<void> {
  const host = await mesh.host([Thermostat]);
  const device = await mqtt.connectAsync(mqttUrl, {
    clientId: "thermostat-7",
    clean: false,
    reconnectPeriod: 0,
  });
  try {
    const command = new Promise<string>((resolve) =>
      device.on("message", (_t, payload) => resolve(payload.toString())),
    );
    await device.subscribeAsync("devices/thermostat-7/commands", { qos: 1 });
    await device.publishAsync("devices/thermostat-7/telemetry", JSON.stringify({ celsius: 21 }), { qos: 1 });
    await device.publishAsync("devices/thermostat-7/telemetry", JSON.stringify({ celsius: 27 }), { qos: 1 });
    log(`device got: ${await command}`);
    const status = await mesh.ref(Thermostat, "thermostat-7").status();
    log(`thermostat-7: ${status.readings} readings, last ${status.last} °C`);
  } finally {
    await device.endAsync();
    await host.drain();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mqttPort] = await reservePorts(1);
  const server = await startNatsServer({ serverName: "mqtt-example", mqttPort });
  const mesh = await connect({
    servers: server.url,
    logger: consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent"),
  });
  try {
    await thermostatExample(mesh, `mqtt://127.0.0.1:${mqttPort}`, (line) => console.log(line));
  } finally {
    await mesh.close();
    await server.cleanup();
  }
}
