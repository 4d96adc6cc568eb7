/**
 * MQTT devices (docs/patterns/mqtt-devices.md). nats-server's MQTT listener turns an MQTT topic into
 * a NATS subject (`/` → `.`; in filters `+` → `*`, `#` → `>`), so a device's message on
 * `devices/d-7/telemetry` is a NATS message on `devices.d-7.telemetry` whose body is the device's
 * raw payload (no Troupe envelope) and whose header `Nmqtt-Pub` carries its QoS.
 *
 * - The stream `<prefix>_devices` stores the device subjects Troupe subscribes to (its subjects
 *   are the subscriptions' filters), so a host that was down gets what devices published meanwhile.
 * - An MQTT subscription's handler receives a {@link DeviceMessage}: the MQTT topic and the payload
 *   decoded as the subscription says (`json` by default, `text`, or `bytes`). A payload that does
 *   not decode is dead-lettered for that subscriber at once with reason `malformed` (the raw bytes
 *   stay in the devices stream), never retried and never dropped silently.
 * - Publishing to devices with QoS 1 stores the message in the MQTT listener's own stream on
 *   `$MQTT.msgs.<subject>`, which is how nats-server delivers QoS 1 to MQTT sessions (also to a
 *   persistent session whose device is offline, once it reconnects).
 *
 * Topic levels are restricted to letters, digits, `_`, `-` and `.`; a filter's first level must be
 * fixed. A `.` in a level is `//` in the subject, as nats-server maps it from 2.10 on
 * (`spBv1.0/plant1` ↔ `spBv1//0.plant1`); nats-server 2.9 refuses MQTT topics with a `.`. Within
 * these levels (no `/` inside one, none empty) the mapping is one-to-one both ways.
 */

import { once } from "../durable/index.js";
import { ConfigurationError, MalformedMessageError, PayloadTooLargeError } from "../errors.js";
import type { Logger } from "../log.js";
import { EventNames } from "../messaging/index.js";
import {
  addStreamSubjects,
  jetStreamQueues,
  type MessageHeaders,
  type Transport,
} from "../transport/index.js";
import { DEFAULT_MAX_EVENT_BYTES } from "./event.js";

const LEVEL = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_LEVELS = 16;

/** What the devices stream needs of a mesh (pubsub sits below `mesh.ts`, so not the class itself). */
export interface DeviceStreamOwner {
  readonly subjects: { readonly prefix: string };
  readonly transport: Transport;
  readonly logger: Logger;
}

/** How an MQTT subscription decodes device payloads. */
export type DevicePayload = "json" | "text" | "bytes";

/** What an MQTT subscription's handler receives. */
export interface DeviceMessage<P = unknown> {
  /** The MQTT topic the device published on, e.g. `devices/d-7/telemetry`. */
  readonly topic: string;
  /** The payload: parsed JSON, a UTF-8 string, or the bytes, as the subscription asked. */
  readonly payload: P;
  /** The QoS the device published with (absent for messages published by NATS clients). */
  readonly qos?: number;
}

function levels(kind: string, value: string, wildcards: boolean): string[] {
  if (typeof value !== "string" || value.length === 0 || value.length > 256) {
    throw new ConfigurationError(`MQTT ${kind} must be 1-256 characters, got "${String(value)}"`);
  }
  const parts = value.split("/");
  if (parts.length > MAX_LEVELS)
    throw new ConfigurationError(`MQTT ${kind} "${value}" has more than ${MAX_LEVELS} levels`);
  parts.forEach((p, i) => {
    if (LEVEL.test(p)) return;
    if (wildcards && i > 0 && (p === "+" || (p === "#" && i === parts.length - 1))) return;
    throw new ConfigurationError(
      `MQTT ${kind} "${value}": levels are letters, digits, "_", "-" or "."${
        wildcards
          ? `; "+" (one level) or a final "#" after a fixed first level`
          : " (no wildcards when publishing)"
      }`,
    );
  });
  return parts;
}

/** A level's `.` as nats-server (2.10+) writes it in a subject: `//`. */
function escapeLevel(level: string): string {
  return level.includes(".") ? level.replaceAll(".", "//") : level;
}

/** `devices/+/telemetry` → `devices.*.telemetry`; `site.1/#` → `site//1.>`. */
export function mqttFilterToSubject(filter: string): string {
  return levels("topic filter", filter, true)
    .map((p) => (p === "+" ? "*" : p === "#" ? ">" : escapeLevel(p)))
    .join(".");
}

/** `devices/d-7/telemetry` → `devices.d-7.telemetry`; `v1.0/d-7` → `v1//0.d-7`. */
export function mqttTopicToSubject(topic: string): string {
  return levels("topic", topic, false).map(escapeLevel).join(".");
}

/** `devices.d-7.telemetry` → `devices/d-7/telemetry`; `v1//0.d-7` → `v1.0/d-7`. */
export function subjectToMqttTopic(subject: string): string {
  return subject
    .split(".")
    .map((token) => (token.includes("//") ? token.replaceAll("//", ".") : token))
    .join("/");
}

/** Names of MQTT subscriptions: the same consumers as events, on the devices stream and raw subjects. */
export class DeviceNames extends EventNames {
  override stream(): string {
    return this.devicesStream();
  }
  override subject(filter: string): string {
    return mqttFilterToSubject(filter);
  }
  override topicOf(subject: string): string {
    return subjectToMqttTopic(subject);
  }
  override queueGroup(type: string, method: string): string {
    return this.deviceQueueGroup(type, method);
  }
}

/** Decodes a device's payload for an MQTT subscription; throws MalformedMessageError if it cannot. */
export function decodeDeviceMessage(
  subject: string,
  bytes: Uint8Array,
  headers: MessageHeaders | undefined,
  payload: DevicePayload,
  maxBytes = DEFAULT_MAX_EVENT_BYTES,
): DeviceMessage {
  if (bytes.length > maxBytes)
    throw new PayloadTooLargeError(`device payload of ${bytes.length} bytes is larger than ${maxBytes}`);
  const qosHeader = headers?.get("Nmqtt-Pub");
  const qos = qosHeader ? Number(qosHeader) : undefined;
  const topic = subjectToMqttTopic(subject);
  const base = { topic, ...(qos !== undefined && Number.isInteger(qos) ? { qos } : {}) };
  if (payload === "bytes") return { ...base, payload: new Uint8Array(bytes) };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new MalformedMessageError(`device payload on ${topic} is not UTF-8 text`, { cause: err });
  }
  if (payload === "text") return { ...base, payload: text };
  try {
    return {
      ...base,
      payload: JSON.parse(text, (k, v) =>
        k === "__proto__" || k === "constructor" || k === "prototype" ? undefined : v,
      ),
    };
  } catch (err) {
    throw new MalformedMessageError(`device payload on ${topic} is not valid JSON`, { cause: err });
  }
}

/**
 * Creates the devices stream `<prefix>_devices` or adds the subjects of `filters` it does not
 * cover yet. Hosts with MQTT subscriptions do it when they start; call it at deployment time so
 * that messages devices publish before any host ever started are kept too.
 *
 * @example
 * ```ts
 * await ensureDeviceStream(mesh, ["devices/+/telemetry"]);
 * ```
 */
export function ensureDeviceStream(mesh: DeviceStreamOwner, filters: string[]): Promise<void> {
  const names = new DeviceNames(mesh.subjects.prefix);
  const subjects = [...new Set(filters.map(mqttFilterToSubject))].sort();
  return once(mesh, `devices:${subjects.join(",")}`, async () => {
    await jetStreamQueues(mesh.transport).ensureStream({
      name: names.stream(),
      subjects,
      retention: "limits",
      maxAgeMs: 7 * 24 * 3600_000,
      description: "Troupe: messages MQTT devices published on subscribed topics (raw payloads)",
    });
    const added = await addStreamSubjects(mesh.transport, names.stream(), subjects);
    if (added.length)
      mesh.logger.info("devices stream now stores more subjects", { stream: names.stream(), added });
  });
}
