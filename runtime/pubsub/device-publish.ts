/**
 * Publishing to MQTT devices: `mesh.publish("devices/d-7/commands", payload, { mqtt: true })` or,
 * in an actor, `this.publish(...)` with the same options. See devices.ts for the mapping.
 */
import type { PublishOptions, PublishReceipt } from "../actor/index.js";
import { ConfigurationError } from "../errors.js";
import { jetStreamQueues, type Transport } from "../transport/index.js";
import { mqttTopicToSubject } from "./devices.js";
import { PublishFailedError } from "./errors.js";

/** The subject prefix of nats-server's MQTT message stream `$MQTT_msgs` (QoS 1 deliveries to sessions). */
const MQTT_QOS1_PREFIX = "$MQTT.msgs.";

function bytesOf(payload: unknown): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  if (typeof payload === "string") return new Uint8Array(Buffer.from(payload, "utf8"));
  const json = JSON.stringify(payload);
  if (json === undefined)
    throw new ConfigurationError("an MQTT payload must be bytes, a string or JSON-serializable");
  return new Uint8Array(Buffer.from(json, "utf8"));
}

/**
 * Publishes a raw payload (no envelope) to the MQTT topic `topic`; `publish()` runs the outbound
 * interceptors around it.
 */
export async function publishToDevices(
  transport: Transport,
  topic: string,
  payload: unknown,
  options: PublishOptions,
): Promise<PublishReceipt> {
  const subject = mqttTopicToSubject(topic);
  const qos = typeof options.mqtt === "object" ? (options.mqtt.qos ?? 1) : 1;
  if (qos !== 0 && qos !== 1) throw new ConfigurationError(`mqtt qos must be 0 or 1, got ${String(qos)}`);
  const data = bytesOf(payload);
  if (qos === 0) {
    transport.publish(subject, data);
    return { topic, subject, durable: false };
  }
  try {
    const ack = await jetStreamQueues(transport).publish(`${MQTT_QOS1_PREFIX}${subject}`, data, {
      timeoutMs: options.timeoutMs ?? 5000,
    });
    return { topic, subject, durable: true, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw new PublishFailedError(
      `publishing to MQTT topic ${topic} with QoS 1 was not stored (is the MQTT listener enabled, and has a device connected since it started? nats-server creates its stream $MQTT_msgs then): ${
        err instanceof Error ? err.message : String(err)
      }`,
      { cause: err, details: { topic, qos } },
    );
  }
}
