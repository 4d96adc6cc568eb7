/**
 * NATS permissions for MQTT devices (`troupe auth gen --devices <filters>`, docs/patterns/mqtt-devices.md).
 * nats-server's MQTT listener authenticates a device with the MQTT username and password against
 * the same `authorization` users as NATS clients, and checks the user's permissions on the
 * device's topics as NATS subjects (`meters/m-1/telemetry` → `meters.m-1.telemetry`). The
 * listener's own work (its streams, sessions) runs as the server's internal client, not as the
 * device's user; only the QoS 1 deliveries to a device's session are checked against it on 2.9.
 *
 * | user                    | publishes                                   | subscribes              |
 * |-------------------------|---------------------------------------------|-------------------------|
 * | `troupe-device`         | the device topics                           | the device topics, and  |
 * |                         |                                             | `$MQTT.sub.>` (2.9)     |
 * | host (added)            | the device topics (QoS 0), `$MQTT.msgs.` +  | the device topics       |
 * |                         | them (QoS 1, stored for MQTT sessions)      | (`durable: false`)      |
 *
 * The devices stream (`<prefix>_devices`, durable MQTT `@subscribe`) is granted to hosts whether or
 * not `--devices` is given (nats-permissions.ts): consuming a stream needs no right on its subjects.
 */
import { mqttFilterToSubject } from "../pubsub/index.js";

/** Subjects a user may publish to and subscribe to (the shape of nats-permissions.ts' `Permissions`). */
interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** The NATS user (MQTT username) devices connect as, with `troupe auth gen --devices`. */
export const DEVICE_USER = "troupe-device";

/** nats-server's subject prefix of QoS 1 messages for MQTT sessions (its `$MQTT_msgs` stream). */
const MQTT_QOS1_PREFIX = "$MQTT.msgs.";

/** The NATS subjects of MQTT topic filters, e.g. `["meters/#"]` → `["meters.>"]`. */
export function deviceSubjects(filters: readonly string[] | undefined): string[] {
  return [...new Set((filters ?? []).map(mqttFilterToSubject))];
}

/** What a host needs beyond the devices stream to talk to devices on `filters`. */
export function hostDevicePermissions(filters: readonly string[] | undefined): Permissions {
  const subjects = deviceSubjects(filters);
  return {
    publish: [...subjects, ...subjects.map((s) => `${MQTT_QOS1_PREFIX}${s}`)],
    subscribe: subjects,
  };
}

/**
 * Where the MQTT listener delivers a session's QoS 1 messages (a JetStream consumer's deliver
 * subject, `$MQTT.sub.<nuid>`): nats-server 2.9 checks the device user's subscribe permissions on
 * it (a QoS 1 SUBSCRIBE fails with "subscribe permission violation" without it); 2.10+ allows it
 * implicitly. A device cannot name it itself: the listener refuses MQTT filters under `$MQTT/`.
 */
const MQTT_DELIVERIES = "$MQTT.sub.>";

/** The device user's permissions: its topics, both ways; nothing of the mesh. */
export function devicePermissions(filters: readonly string[]): Permissions {
  const subjects = deviceSubjects(filters);
  return { publish: [...subjects].sort(), subscribe: [...subjects, MQTT_DELIVERIES].sort() };
}
