/**
 * What must not cross the leaf-node link between an edge site and its hub. Each site is a mesh of
 * its own (its own JetStream domain, membership, leases, state); only JetStream sourcing crosses.
 *
 * - `<prefix>.>`: calls, tells, events and jobs. Were they to cross, an event published at the
 *   edge would be stored by the hub's events stream directly *and* again through the sourcing
 *   (twice, unless it had a message id), and calls could reach the other site's hosts, whose
 *   shard leases live in another domain.
 * - `$KV.>`: KV writes are publishes on `$KV.<bucket>.<key>`; an edge host's membership record or
 *   lease would land in the hub's buckets of the same name.
 * - `$JS.ACK.>`: acknowledgements name a stream, a consumer and a sequence, not a domain; an edge
 *   runner's ack must never reach the hub's consumer of the same name.
 * - `$MQTT.rmsgs`, `$MQTT.rmsgs.>`, `$MQTT.sess.>`, `$MQTT.JSA.>`, `$MQTT.sub.>`, `$MQTT.qos2.>`,
 *   `$MQTT.out.>`, `$MQTT.deliver.>`: nats-server's MQTT listener keeps retained messages, sessions
 *   and (2.10+) QoS 2 state in streams of its own, talks to its JetStream on `$MQTT.JSA.>` and
 *   delivers to sessions on `$MQTT.sub.<nuid>` (QoS 1) and `$MQTT.deliver.pubrel.<session>` (2.10+).
 *   Each site's listener is its own: without this, a retained message published at the edge is
 *   stored in the hub's `$MQTT_rmsgs` as well (its subject is `$MQTT.rmsgs` on 2.9.10,
 *   `$MQTT.rmsgs.<topic>` from 2.10), and on 2.10+ an incoming QoS 2 message (`$MQTT_qos2in` on
 *   `$MQTT.qos2.in.<client>.<packet id>`) or a PUBREL record (`$MQTT_out` on
 *   `$MQTT.out.pubrel.<session>`) in the hub's streams of the same names. Sessions already name the
 *   domain in their subjects (`$MQTT.sess.<domain>.>`); they are denied all the same. The list is
 *   every `$MQTT.` subject nats-server (2.9 to 2.12) uses but one: `$MQTT.msgs.>` (QoS 1 messages
 *   for MQTT sessions) crosses, so an actor's QoS 1 publish at the hub is stored by the edge's
 *   listener too while the link is up, and devices at the edge get it.
 * - The **device subjects** the site forwards (`devices` option: MQTT topic filters such as
 *   `devices/+/telemetry`): they reach the hub only by the hub's devices stream sourcing the edge's
 *   (`edgeSite`/`edgeLink` with `devices`), which copies what devices published while the link was
 *   down too; live across the link as well, each message would be stored at the hub twice.
 *   `edgeSite({ monitorUrl })` checks the server's deny lists against the edge's devices stream
 *   (leaf-check.ts), `edgeLink` its own list (device-check.ts).
 *
 * The JetStream API (`$JS.API.>`) is kept local by the domain itself; `$JS.<domain>.API.>`, the
 * sourcing's deliveries and flow control, and replies (`_INBOX.>`, or each user's inbox prefix) still cross.
 */
import { ConfigurationError } from "../errors.js";
import { mqttFilterToSubject } from "../pubsub/index.js";

/** The mesh's default subject prefix (`Subjects`' default; `connect({ prefix })` changes it). */
const DEFAULT_PREFIX = "troupe";
/**
 * The MQTT listener's own state and deliveries: each site's stays on its side. 2.9: retained
 * messages, sessions, JetStream API replies, QoS 1 deliveries; 2.10+ adds the QoS 2 streams
 * (`$MQTT.qos2.in.`, `$MQTT.out.pubrel.`) and PUBREL deliveries (`$MQTT.deliver.pubrel.`).
 */
const MQTT_LISTENER_SUBJECTS: readonly string[] = [
  "$MQTT.rmsgs",
  "$MQTT.rmsgs.>",
  "$MQTT.sess.>",
  "$MQTT.JSA.>",
  "$MQTT.sub.>",
  "$MQTT.qos2.>",
  "$MQTT.out.>",
  "$MQTT.deliver.>",
];
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

function assertToken(kind: string, value: string): void {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new ConfigurationError(`${kind} "${String(value)}" must be 1-64 letters, digits, "_" or "-"`);
  }
}

/** What else the edge's link keeps off: device topics forwarded by sourcing. */
export interface EdgeLinkDenyOptions {
  /**
   * MQTT topic filters of the device messages the site forwards to the hub (the same list as
   * `edgeSite`'s and `edgeLink`'s `devices`), e.g. `["devices/+/telemetry"]`.
   */
  devices?: string[];
}

/**
 * Subjects to deny in both directions (`deny_imports` and `deny_exports`) on the edge's leaf remote.
 *
 * @example
 * ```ts
 * edgeLinkDenyList("troupe", { devices: ["devices/+/telemetry"] })
 * // ["troupe.>", "$KV.>", "$JS.ACK.>", "$MQTT.rmsgs", ..., "$MQTT.deliver.>", "devices.*.telemetry"]
 * ```
 */
export function edgeLinkDenyList(
  prefix: string = DEFAULT_PREFIX,
  options: EdgeLinkDenyOptions = {},
): string[] {
  return denyListOf(prefix, (options.devices ?? []).map(mqttFilterToSubject));
}

/** {@link edgeLinkDenyList} with the device topics as subjects (as a devices stream stores them). */
export function denyListOf(prefix: string, deviceSubjects: readonly string[]): string[] {
  assertToken("subject prefix", prefix);
  return [`${prefix}.>`, "$KV.>", "$JS.ACK.>", ...MQTT_LISTENER_SUBJECTS, ...new Set(deviceSubjects)];
}

/** Checks a JetStream domain name (it becomes one token of `$JS.<domain>.API`). */
export function assertDomain(domain: string): void {
  assertToken("JetStream domain", domain);
}

/** The API prefix of a domain: `$JS.<domain>.API`. */
export function domainApiPrefix(domain: string): string {
  assertDomain(domain);
  return `$JS.${domain}.API`;
}

/**
 * The leaf-node part of an edge nats-server's config, for `troupe dev --leaf` and the docs.
 *
 * @example
 * ```ts
 * leafRemoteConfig("nats-leaf://hub.example.com:7422") // leafnodes { remotes: [ { url: ..., deny_imports: [...], ... } ] }
 * ```
 */
export function leafRemoteConfig(
  hubLeafUrl: string,
  prefix: string = DEFAULT_PREFIX,
  options: EdgeLinkDenyOptions = {},
): string {
  const deny = edgeLinkDenyList(prefix, options)
    .map((s) => JSON.stringify(s))
    .join(", ");
  return [
    "leafnodes {",
    "  remotes: [",
    "    {",
    `      url: ${JSON.stringify(hubLeafUrl)}`,
    `      deny_imports: [${deny}]`,
    `      deny_exports: [${deny}]`,
    "    }",
    "  ]",
    "}",
  ].join("\n");
}
