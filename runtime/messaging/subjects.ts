/**
 * Every NATS subject, queue group and bucket name Troupe uses is built here, and nowhere else.
 *
 * Layout (prefix defaults to `troupe`):
 * - `<prefix>.rpc.<type>.<shard>`: calls and tells to actors of `<type>` whose id hashes to `<shard>`;
 *   hosts subscribe in queue group `<prefix>.rpc.<type>`.
 * - KV bucket `<prefix>_types`: actor types some host serves, with their shard count.
 * - KV bucket `<prefix>_state_<type>`: actor state, key = encoded actor id.
 * - KV bucket `<prefix>_hosts`: host leases, key = host id, value = the host's record (renewed
 *   every heartbeat; bucket-wide TTL).
 * - KV bucket `<prefix>_members`: the roster, key = host id, written when a host joins, changes
 *   status, leaves or is found dead.
 * - KV bucket `<prefix>_shards`: shard fences, key = `<type>.<shard>`, value = the owner; written
 *   only when ownership changes; a host watches `<type>.>` of each type it serves.
 *   (`<prefix>_leases`, per-shard leases, is no longer used.)
 * - `<prefix>.host.<hostId>.actors`: a host answers with the activations it holds (`troupe ls actors`).
 * - KV bucket `<prefix>_throttle_policies`: throttle policies of the control plane, key = policy name.
 * - KV bucket `<prefix>_throttle_demand`: each control-plane replica's view of its hosts' demand,
 *   key = replica id (bucket-wide TTL), so replicas size shares from every host's demand.
 * - Durable jobs ({@link JobNames}): stream `<prefix>_jobs_<Type>` (work queue), subjects
 *   `<prefix>.jobs.<Type>.<jobId>`, durable pull consumer `runner`; stream `<prefix>_results`,
 *   subject `<prefix>.results.<jobId>` (last message per subject kept); stream `<prefix>_dlq`,
 *   subject `<prefix>.dlq.<Type>`.
 * - Reminders ({@link ReminderNames}): KV bucket `<prefix>_reminders`, key
 *   `<Type>.<kvKeyForId(id)>.<name>`; stream `<prefix>_reminders` (work queue), subject
 *   `<prefix>.reminders.<key>` (one per reminder), one durable pull consumer `reminders_<Type>`
 *   per type on `<prefix>.reminders.<Type>.>`.
 * - Events ({@link EventNames}): `<prefix>.evt.<topic>`, stream `<prefix>_events` on
 *   `<prefix>.evt.>`; durable consumer `<Type>_<method>` per subscribing method; an ephemeral
 *   subscription is the core NATS queue group `<prefix>.evt.<Type>.<method>`. At an edge site,
 *   stream `<prefix>_hub_events` (no subjects of its own) sources the hub's events; each durable
 *   subscriber has a consumer of the same name on it too (docs/patterns/edge-sites.md).
 *
 * Besides these, only the transport names subjects: its reply inbox and the JetStream/KV API
 * subjects nats.js defines (`$JS.API.>`, `$KV.<bucket>.>`).
 */
import { ConfigurationError } from "../errors.js";

export const DEFAULT_PREFIX = "troupe";

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Checks a name that becomes one subject token and part of a bucket name. */
export function assertToken(kind: string, value: string): void {
  if (!TOKEN.test(value) || value.length > 64) {
    throw new ConfigurationError(
      `${kind} "${value}" must be 1-64 characters of letters, digits, "_" or "-" (it becomes a NATS subject token)`,
    );
  }
}

export class Subjects {
  readonly prefix: string;
  constructor(prefix: string = DEFAULT_PREFIX) {
    assertToken("subject prefix", prefix);
    this.prefix = prefix;
  }

  rpc(type: string, shard: number): string {
    return `${this.prefix}.rpc.${type}.${shard}`;
  }

  /** Inverse of {@link rpc}: the actor type of a call subject of this prefix; undefined otherwise. */
  rpcType(subject: string): string | undefined {
    const head = `${this.prefix}.rpc.`;
    const dot = subject.lastIndexOf(".");
    if (!subject.startsWith(head) || dot <= head.length) return undefined;
    return subject.slice(head.length, dot);
  }

  rpcQueueGroup(type: string): string {
    return `${this.prefix}.rpc.${type}`;
  }

  typesBucket(): string {
    return `${this.prefix}_types`;
  }

  stateBucket(type: string): string {
    return `${this.prefix}_state_${type}`;
  }

  hostsBucket(): string {
    return `${this.prefix}_hosts`;
  }

  /** The roster: one record per host, written only when it changes (docs/placement.md). */
  membersBucket(): string {
    return `${this.prefix}_members`;
  }

  /** Shard fences: who owns each shard of a placed type, written only when that changes. */
  shardsBucket(): string {
    return `${this.prefix}_shards`;
  }

  /** Key of a shard's fence in {@link shardsBucket} (the same shape as a lease key). */
  shardFenceKey(type: string, shard: number): string {
    return this.leaseKey(type, shard);
  }

  /** The key filter matching every fence of `type` in {@link shardsBucket} (keys of {@link shardFenceKey}). */
  shardFenceFilter(type: string): string {
    return `${type}.>`;
  }

  /** Key of a shard's lease in {@link leasesBucket}. */
  leaseKey(type: string, shard: number): string {
    return `${type}.${shard}`;
  }

  /** Inverse of {@link leaseKey}; undefined for a key of another shape. */
  parseLeaseKey(key: string): { type: string; shard: number } | undefined {
    const dot = key.lastIndexOf(".");
    const shard = Number(key.slice(dot + 1));
    if (dot <= 0 || !Number.isInteger(shard) || shard < 0) return undefined;
    return { type: key.slice(0, dot), shard };
  }

  hostActors(hostId: string): string {
    return `${this.prefix}.host.${hostId}.actors`;
  }

  throttlePoliciesBucket(): string {
    return `${this.prefix}_throttle_policies`;
  }

  throttleDemandBucket(): string {
    return `${this.prefix}_throttle_demand`;
  }

  /** Names of durable jobs under this prefix. */
  get jobs(): JobNames {
    this.jobNames ??= new JobNames(this.prefix);
    return this.jobNames;
  }

  /** Names of durable reminders under this prefix. */
  get reminders(): ReminderNames {
    this.reminderNames ??= new ReminderNames(this.prefix);
    return this.reminderNames;
  }

  /** Names of publish-subscribe under this prefix. */
  get events(): EventNames {
    this.eventNames ??= new EventNames(this.prefix);
    return this.eventNames;
  }

  private jobNames: JobNames | undefined;
  private reminderNames: ReminderNames | undefined;
  private eventNames: EventNames | undefined;
}

/** The durable pull consumer of a job queue. */
export const RUNNER_CONSUMER = "runner";

/** Stream, subject and consumer names of durable jobs. */
export class JobNames {
  constructor(readonly prefix: string) {}

  jobsStream(type: string): string {
    return `${this.prefix}_jobs_${type}`;
  }
  jobsStreamPrefix(): string {
    return `${this.prefix}_jobs_`;
  }
  jobsFilter(type: string): string {
    return `${this.prefix}.jobs.${type}.>`;
  }
  jobSubject(type: string, jobId: string): string {
    return `${this.prefix}.jobs.${type}.${jobId}`;
  }
  /** Human name of a type's queue, for spans and logs (low cardinality). */
  queueName(type: string): string {
    return `jobs.${type}`;
  }
  resultsStream(): string {
    return `${this.prefix}_results`;
  }
  resultsFilter(): string {
    return `${this.prefix}.results.>`;
  }
  resultSubject(jobId: string): string {
    return `${this.prefix}.results.${jobId}`;
  }
  /**
   * A second copy of the result of a job enqueued in JetStream domain `domain` (an edge site) and
   * run in another: the edge's results stream sources these from the hub (docs/patterns/edge-sites.md).
   */
  returnedResultSubject(jobId: string, domain: string): string {
    return `${this.prefix}.results.${jobId}.${domain}`;
  }
  /** Every returned result for the domain `domain` (one filter, as 2.9 allows per source). */
  returnedResultsFilter(domain: string): string {
    return `${this.prefix}.results.*.${domain}`;
  }
  dlqStream(): string {
    return `${this.prefix}_dlq`;
  }
  dlqFilter(): string {
    return `${this.prefix}.dlq.>`;
  }
  /** A type's dead letters; the name is checked, as a filter it must not match other types' (`*`, `>`). */
  dlqSubject(type: string): string {
    assertToken("actor type name", type);
    return `${this.prefix}.dlq.${type}`;
  }
  /** The actor type of a DLQ subject. */
  typeOfDlqSubject(subject: string): string {
    return subject.slice(this.prefix.length + ".dlq.".length);
  }
}

/** Stream, subject, consumer, bucket and key names of durable reminders. */
export class ReminderNames {
  constructor(readonly prefix: string) {}

  bucket(): string {
    return `${this.prefix}_reminders`;
  }
  stream(): string {
    return `${this.prefix}_reminders`;
  }
  streamFilter(): string {
    return `${this.prefix}.reminders.>`;
  }
  /**
   * The subject of one reminder's occurrences: its key under `<prefix>.reminders.`, so the last
   * message of a reminder can be read by subject and the stream's subject list says which
   * reminders have a pending occurrence (runtime/reminders/sweep.ts).
   */
  subject(type: string, id: string, name: string): string {
    return `${this.prefix}.reminders.${this.key(type, id, name)}`;
  }
  /** Every reminder subject of one type: what its consumer delivers (the name is checked, as for DLQ subjects). */
  typeFilter(type: string): string {
    assertToken("actor type name", type);
    return `${this.prefix}.reminders.${type}.>`;
  }
  /**
   * The type's durable consumer. (Until 2026-12-03 the subject was one per type, consumed by
   * `runner_<Type>`; see docs/patterns/reminders.md, "Upgrading".)
   */
  consumer(type: string): string {
    return `reminders_${type}`;
  }
  /**
   * The bucket key that says when a type's reminders were last swept: the type name alone, one
   * token, where every definition's key has three or more.
   */
  sweepKey(type: string): string {
    return type;
  }
  /** The reminder's KV key (its name is one token without dots, so the key is unambiguous). */
  key(type: string, id: string, name: string): string {
    return `${type}.${kvKeyForId(id)}.${name}`;
  }
  /** Human name of the queue, for spans and logs. */
  queueName(type: string): string {
    return `reminders.${type}`;
  }
}

/** Stream, subject, consumer and queue-group names of publish-subscribe. */
export class EventNames {
  constructor(readonly prefix: string) {}

  stream(): string {
    return `${this.prefix}_events`;
  }
  streamSubjects(): string {
    return `${this.prefix}.evt.>`;
  }
  /**
   * At an edge site: the copy of the hub's events (sourced, no subjects of its own, so nothing
   * published at the edge lands in it and nothing in it is sourced back to the hub).
   */
  hubStream(): string {
    return `${this.prefix}_hub_events`;
  }
  /** Subject of a topic, or of a pattern (wildcards carry over). */
  subject(topicOrPattern: string): string {
    return `${this.prefix}.evt.${topicOrPattern}`;
  }
  topicOf(subject: string): string {
    return subject.slice(this.prefix.length + ".evt.".length);
  }
  /** Durable consumer of one subscribing method. */
  consumer(type: string, method: string): string {
    return `${type}_${method.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  }
  /** Core NATS queue group of an ephemeral subscription. */
  queueGroup(type: string, method: string): string {
    return `${this.prefix}.evt.${type}.${method.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  }
  /** The stream of MQTT device messages (subjects: the device topics' own, see pubsub/devices.ts). */
  devicesStream(): string {
    return `${this.prefix}_devices`;
  }
  /** Core NATS queue group of an ephemeral MQTT subscription. */
  deviceQueueGroup(type: string, method: string): string {
    return `${this.prefix}.mqtt.${type}.${method.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  }
}

/**
 * The names a durable subscriber uses on the edge's copy of the hub's events: the stream is
 * {@link EventNames.hubStream}; consumers, subjects and topics are the events stream's.
 */
export class HubEventNames extends EventNames {
  override stream(): string {
    return this.hubStream();
  }
}

const SAFE_KEY = /^[-/_.a-zA-Z0-9]+$/;

/**
 * Turns an actor id into a valid KV key. Ids made of KV-safe characters stay readable;
 * any other id becomes `=` + base64url(utf8(id)). Plain ids never contain `=`, so the two
 * forms cannot collide.
 */
export function kvKeyForId(id: string): string {
  if (SAFE_KEY.test(id) && !id.startsWith(".") && !id.endsWith(".") && !id.includes("..")) return id;
  return `=${Buffer.from(id, "utf8").toString("base64url")}`;
}

/** Inverse of {@link kvKeyForId}. */
export function idForKvKey(key: string): string {
  return key.startsWith("=") ? Buffer.from(key.slice(1), "base64url").toString("utf8") : key;
}
