/**
 * The NATS subject permissions each Troupe component needs, derived from the name builders the
 * runtime itself uses (messaging/subjects.ts),
 * so a renamed subject changes the permissions with it. `troupe auth gen` renders them.
 *
 * | component     | subscribes                          | publishes                                          |
 * |---------------|-------------------------------------|----------------------------------------------------|
 * | host          | shard subjects, its `actors` query, | calls, replies, jobs/results/dlq, events,          |
 * |               | ephemeral events, inboxes           | reminders; JetStream API and KV of what it hosts   |
 * | client        | its inbox, job results              | calls, jobs, events; read results and types        |
 * | gateway       | a client's, events (SSE tail)       | what a client publishes                            |
 * | control-plane | its inbox                           | KV of the throttle buckets; job queues' backlog    |
 *
 * JetStream is reached through `$JS.API.<op>.<stream>...`, acks through `$JS.ACK.<stream>.>`, the
 * flow control of ordered consumers (KV watches) through `$JS.FC.<stream>.>`, KV writes through
 * `$KV.<bucket>.>`. A stream name is one subject token, so a per-type stream is listed per type
 * when the actor types are given, and is a `*` token (any stream of that operation) otherwise.
 * Inboxes: each user has its own prefix, `_INBOX_<user>` ({@link inboxPrefixOf}; the component
 * connects with `NATS_INBOX_PREFIX` set to it), and may subscribe only under it, so no user reads
 * another's replies (calls, JetStream API answers, KV watches, job pulls). Hosts may publish to the
 * inboxes of the users that call actors (client, gateway, host): that is where replies go.
 * A host watches only its own types' shard fences (a subject filter on the consumer it creates,
 * `$JS.API.CONSUMER.CREATE.<stream>.>`): the key layout and subjects are the same as before.
 */
import { Subjects } from "../internal.js";
import { JobNames } from "../jobs/index.js";
import { DeviceNames, EventNames } from "../pubsub/index.js";
import { ReminderNames } from "../reminders/index.js";
import { subjectCovers } from "../transport/index.js";
import { hostDevicePermissions } from "./device-permissions.js";

export const COMPONENTS = ["host", "client", "gateway", "control-plane"] as const;
export type Component = (typeof COMPONENTS)[number];

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

export interface PermissionScope {
  prefix: string;
  /** The actor types the mesh hosts; undefined: per-type streams become a `*` token. */
  types?: readonly string[] | undefined;
  /**
   * Client applications that get a user of their own (`troupe-client-<name>`, see
   * {@link clientUser}): a client's permissions and its own inbox prefix, so client applications
   * cannot read each other's replies either (all processes of the `client` user share one prefix).
   */
  clients?: readonly string[] | undefined;
  /**
   * MQTT topic filters devices use (`meters/#`): hosts may publish to them and subscribe to them,
   * and a `troupe-device` user gets them (device-permissions.ts). Default none.
   */
  devices?: readonly string[] | undefined;
}

/** A client application's name: lower-case letters, digits and `-` (part of a user name and a subject token). */
export const CLIENT_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** The NATS user name of a component (`troupe-host`, ...). */
export function natsUser(component: Component): string {
  return `troupe-${component}`;
}

/** The NATS user of a client application given to `troupe auth gen --clients`: `troupe-client-<name>`. */
export function clientUser(name: string): string {
  return `${natsUser("client")}-${name}`;
}

/** The inbox prefix a user connects with (`NATS_INBOX_PREFIX`): `_INBOX_<user>`. */
export function userInboxPrefix(user: string): string {
  return `_INBOX_${user}`;
}

/** The inbox prefix a component's user connects with: `_INBOX_troupe-host`, ... */
export function inboxPrefixOf(component: Component): string {
  return userInboxPrefix(natsUser(component));
}

/** Every subject under a component's inbox prefix. */
export function inboxesOf(component: Component): string {
  return `${inboxPrefixOf(component)}.>`;
}

/** A client application's permissions (`--clients`): a client's, with its own inboxes. */
export function clientAppPermissions(name: string, scope: PermissionScope): Permissions {
  const own = `${userInboxPrefix(clientUser(name))}.>`;
  const p = permissionsFor("client", scope);
  return finish({
    publish: p.publish,
    subscribe: [own, ...p.subscribe.filter((s) => s !== inboxesOf("client"))],
  });
}

/** The components that call actors, so hosts reply to their inboxes. */
const CALLERS: readonly Component[] = ["client", "gateway", "host"];
const API = "$JS.API";

/** What a connection may do with one stream (or KV bucket's stream). */
type StreamUse = "setup" | "read" | "consume" | "write-kv" | "watch" | "monitor" | "list-consumers";

function streamSubjects(stream: string, uses: readonly StreamUse[], bucket?: string): string[] {
  const out: string[] = [];
  for (const use of uses) {
    switch (use) {
      case "setup":
        out.push(
          `${API}.STREAM.INFO.${stream}`,
          `${API}.STREAM.CREATE.${stream}`,
          `${API}.STREAM.UPDATE.${stream}`,
        );
        break;
      case "read":
        out.push(
          `${API}.STREAM.INFO.${stream}`,
          `${API}.STREAM.MSG.GET.${stream}`,
          `${API}.DIRECT.GET.${stream}`,
        );
        out.push(`${API}.DIRECT.GET.${stream}.>`);
        break;
      case "consume":
        out.push(
          `${API}.CONSUMER.CREATE.${stream}.>`,
          `${API}.CONSUMER.DURABLE.CREATE.${stream}.*`,
          `${API}.CONSUMER.INFO.${stream}.*`,
          `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
          `$JS.ACK.${stream}.>`,
        );
        break;
      case "watch":
        // Ordered consumers (KV watches, key listings): ephemeral, deleted and re-created on a gap.
        out.push(
          `${API}.CONSUMER.CREATE.${stream}`,
          `${API}.CONSUMER.CREATE.${stream}.>`,
          `${API}.CONSUMER.INFO.${stream}.*`,
          `${API}.CONSUMER.DELETE.${stream}.*`,
          `$JS.FC.${stream}.>`,
        );
        break;
      case "write-kv":
        if (bucket) out.push(`$KV.${bucket}.>`);
        break;
      case "monitor":
        // Backlog for scaling decisions: the stream's state and its consumers' counts, nothing more.
        out.push(`${API}.STREAM.INFO.${stream}`, `${API}.CONSUMER.INFO.${stream}.*`);
        break;
      case "list-consumers":
        // Every consumer's counts in one listing (scaling reads the durable subscriptions this way).
        out.push(`${API}.CONSUMER.LIST.${stream}`);
        break;
    }
  }
  return out;
}

const kvStream = (bucket: string) => `KV_${bucket}`;

function kv(bucket: string, uses: readonly StreamUse[]): string[] {
  return streamSubjects(kvStream(bucket), uses, bucket);
}

/** The per-type values a name takes: each given type, or `*` (a whole-token wildcard). */
function perType(scope: PermissionScope): string[] {
  return scope.types && scope.types.length > 0 ? [...scope.types] : ["*"];
}

/** A per-type stream or bucket name; with `*` the whole token becomes the wildcard. */
function typed(name: (type: string) => string, type: string): string {
  return type === "*" ? "*" : name(type);
}

export function permissionsFor(component: Component, scope: PermissionScope): Permissions {
  const subjects = new Subjects(scope.prefix);
  const jobs = new JobNames(scope.prefix);
  const events = new EventNames(scope.prefix);
  const reminders = new ReminderNames(scope.prefix);
  const types = perType(scope);
  const rpcAll = `${scope.prefix}.rpc.>`;
  const jobsAll = `${scope.prefix}.jobs.>`;
  // Checked by the JetStream client when it starts (account info).
  const common = [`${API}.INFO`];

  const clientPublish = [
    ...common,
    rpcAll,
    jobsAll,
    events.streamSubjects(),
    ...types.flatMap((t) =>
      streamSubjects(
        typed((x) => jobs.jobsStream(x), t),
        ["setup"],
      ),
    ),
    ...streamSubjects(jobs.resultsStream(), ["setup", "read"]),
    ...streamSubjects(events.stream(), ["setup"]),
    ...kv(subjects.typesBucket(), ["read"]),
  ];

  // A job's result is awaited on its result subject (core subscription), then read from the stream.
  const results = jobs.resultsFilter();

  switch (component) {
    case "client":
      return finish({ publish: clientPublish, subscribe: [inboxesOf("client"), results] });
    case "gateway":
      // Live events over Server-Sent Events are a core subscription on the event subjects.
      return finish({
        publish: clientPublish,
        subscribe: [inboxesOf("gateway"), results, events.streamSubjects()],
      });
    case "control-plane":
      return finish({
        publish: [
          ...common,
          ...kv(subjects.throttlePoliciesBucket(), ["setup", "read", "write-kv", "watch"]),
          ...kv(subjects.throttleDemandBucket(), ["setup", "read", "write-kv", "watch"]),
          // Scaling decisions read each job queue's backlog (docs/patterns/competing-consumers.md).
          ...types.flatMap((t) =>
            streamSubjects(
              typed((x) => jobs.jobsStream(x), t),
              ["monitor"],
            ),
          ),
          // ... and the durable subscriptions' backlog (`@subscribe` consumers of the events stream,
          // the devices stream and, at an edge site, the copy of the hub's events).
          ...streamSubjects(events.stream(), ["list-consumers"]),
          ...streamSubjects(new DeviceNames(scope.prefix).stream(), ["list-consumers"]),
          ...streamSubjects(events.hubStream(), ["list-consumers"]),
        ],
        subscribe: [inboxesOf("control-plane")],
      });
    case "host": {
      const devices = hostDevicePermissions(scope.devices);
      return finish({
        publish: [
          ...clientPublish,
          // Replies (and keepalives, tell refusals) to whoever called.
          ...CALLERS.map(inboxesOf),
          ...(scope.clients ?? []).map((name) => `${userInboxPrefix(clientUser(name))}.>`),
          jobs.resultsFilter(),
          jobs.dlqFilter(),
          reminders.streamFilter(),
          ...types.flatMap((t) => [
            ...streamSubjects(
              typed((x) => jobs.jobsStream(x), t),
              ["setup", "consume"],
            ),
            ...kv(
              typed((x) => subjects.stateBucket(x), t),
              ["setup", "read", "write-kv"],
            ),
          ]),
          ...streamSubjects(jobs.dlqStream(), ["setup"]),
          ...streamSubjects(events.stream(), ["setup", "consume"]),
          // At an edge site: the hub's events, set up by `troupe edge site`, read by subscribers.
          ...streamSubjects(events.hubStream(), ["monitor", "consume"]),
          ...streamSubjects(reminders.stream(), ["setup", "read", "consume"]),
          ...kv(reminders.bucket(), ["setup", "read", "write-kv", "watch"]),
          ...kv(subjects.typesBucket(), ["setup", "read", "write-kv", "watch"]),
          ...kv(subjects.hostsBucket(), ["setup", "read", "write-kv", "watch"]),
          ...kv(subjects.membersBucket(), ["setup", "read", "write-kv", "watch"]),
          ...kv(subjects.shardsBucket(), ["setup", "read", "write-kv", "watch"]),
          // MQTT `@subscribe` (durable): the devices stream, its consumers; publishes to devices.
          ...streamSubjects(new DeviceNames(scope.prefix).stream(), ["setup", "consume"]),
          ...devices.publish,
        ],
        subscribe: [
          inboxesOf("host"),
          results,
          rpcAll,
          subjects.hostActors("*"),
          events.streamSubjects(),
          ...devices.subscribe,
        ],
      });
    }
  }
}

/** Sorted, without duplicates, and without a subject another wildcard of the list already covers. */
function finish(p: Permissions): Permissions {
  return { publish: minimal(p.publish), subscribe: minimal(p.subscribe) };
}

function minimal(list: readonly string[]): string[] {
  const unique = [...new Set(list)];
  return unique.filter((s) => !unique.some((other) => other !== s && subjectCovers(other, s))).sort();
}
