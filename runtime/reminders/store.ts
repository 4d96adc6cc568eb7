/**
 * `remind()` and `unremind()`: the reminder's definition goes to the KV bucket (a fresh random
 * generation each time), then its first occurrence is published to the reminders work queue.
 * The runner fires an occurrence only while the bucket still holds that generation, so
 * `unremind()` (delete) and a second `remind()` with the same name (new generation) make every
 * message already queued for the old one a no-op.
 */
import { randomBytes } from "node:crypto";
import type { ActorClass } from "../actor/index.js";
import { typeNameOf } from "../actor/index.js";
import type { MeshConnection, OutboundSends } from "../durable/index.js";
import { once } from "../durable/index.js";
import { chainIdle, type OutboundActorContext, observersOf, runChain } from "../interceptors/index.js";
import { ReminderNames } from "../messaging/index.js";
import type { KeyValueBucket } from "../transport/index.js";
import { jetStreamQueues, type PublishResult } from "../transport/index.js";
import { assertReminderName, RECEIVE_REMINDER, type ReminderSchedule, resolveSchedule } from "./schedule.js";

/** Stored in the bucket: what the reminder is. */
export interface ReminderDefinition {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly generation: string;
  readonly everyMs?: number | undefined;
  readonly firstDueAtMs: number;
  readonly setAtMs: number;
  /** How many times a sweep restored a lost occurrence of this generation (sweep.ts). */
  readonly repairs?: number | undefined;
}

/** One occurrence (or a retry of one) in the work queue. */
export interface ReminderMessage {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly generation: string;
  /** Occurrence number of this generation, from 0. */
  readonly n: number;
  /** Attempt of this occurrence, from 1. */
  readonly attempt: number;
  readonly dueAtMs: number;
  /** A retry waits until then. */
  readonly notBeforeMs?: number | undefined;
  /**
   * Set on a chain a sweep restored (its definition's `repairs`), carried to every later message
   * of it: its messages' ids differ from those of the chain that was lost.
   */
  readonly repair?: number | undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeJson(v: unknown): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(dec.decode(bytes)) as T;
}

export function namesOfReminders(mesh: MeshConnection): ReminderNames {
  return new ReminderNames(mesh.subjects.prefix);
}

/**
 * `Nats-Msg-Id` of a message: fixed by (definition, generation, repair, occurrence, attempt), so a
 * runner that dies after publishing the next occurrence and before acking the current one
 * publishes a duplicate that the stream drops (within its duplicate window), instead of forking
 * the chain.
 */
export function reminderMsgId(
  key: string,
  m: Pick<ReminderMessage, "generation" | "n" | "attempt" | "repair">,
): string {
  const id = `${key}:${m.generation}:${m.n}:${m.attempt}`;
  return m.repair ? `${id}:r${m.repair}` : id;
}

const buckets = new WeakMap<MeshConnection, Promise<KeyValueBucket>>();

export function reminderBucket(mesh: MeshConnection): Promise<KeyValueBucket> {
  let p = buckets.get(mesh);
  if (!p) {
    p = mesh.transport.keyValue(namesOfReminders(mesh).bucket(), {
      replicas: mesh.replicas,
      description: "Troupe durable reminders, key <Type>.<id>.<name>",
    });
    buckets.set(mesh, p);
    p.catch(() => buckets.delete(mesh));
  }
  return p;
}

export function ensureReminderStream(mesh: MeshConnection): Promise<void> {
  const names = namesOfReminders(mesh);
  return once(mesh, "reminders", () =>
    jetStreamQueues(mesh.transport).ensureStream({
      name: names.stream(),
      subjects: [names.streamFilter()],
      retention: "workqueue",
      replicas: mesh.replicas,
      description:
        "Troupe durable reminders: one message per pending occurrence, subject <prefix>.reminders.<Type>.<id>.<name>",
    }),
  );
}

/** Publishes one occurrence (or retry) message, deduplicated by {@link reminderMsgId}. */
export async function publishReminder(
  mesh: MeshConnection,
  m: ReminderMessage,
  headers?: Record<string, string>,
): Promise<PublishResult> {
  const names = namesOfReminders(mesh);
  const key = names.key(m.type, m.id, m.name);
  return jetStreamQueues(mesh.transport).publish(names.subject(m.type, m.id, m.name), encodeJson(m), {
    msgId: reminderMsgId(key, m),
    ...(headers ? { headers } : {}),
  });
}

/** Sets (or replaces) the reminder `name` of actor `type`/`id`. Resolves once it is durably stored. */
export async function remind(
  mesh: OutboundSends,
  cls: ActorClass,
  id: string,
  name: string,
  schedule: ReminderSchedule,
): Promise<void> {
  assertReminderName(name);
  const type = typeNameOf(cls);
  const { dueAtMs, everyMs } = resolveSchedule(schedule);
  const names = namesOfReminders(mesh);
  const [kv] = await Promise.all([reminderBucket(mesh), ensureReminderStream(mesh)]);
  const key = names.key(type, id, name);
  const generation = randomBytes(9).toString("base64url");
  const def: ReminderDefinition = {
    type,
    id,
    name,
    generation,
    ...(everyMs ? { everyMs } : {}),
    firstDueAtMs: dueAtMs,
    setAtMs: Date.now(),
  };
  // The definition first: the runner may take the message before this call returns.
  const revision = await kv.put(key, encodeJson(def));
  const message: ReminderMessage = { type, id, name, generation, n: 0, attempt: 1, dueAtMs };
  // The first occurrence goes through the connection's observing built-ins (its `enqueue` span and
  // trace context), not the application's interceptors: a reminder is not one of their hops.
  const observers = observersOf(mesh.outbound);
  try {
    if (chainIdle(observers)) await publishReminder(mesh, message);
    else {
      const ctx: OutboundActorContext = {
        kind: "enqueue",
        actorType: type,
        actorId: id,
        method: RECEIVE_REMINDER,
        headers: {},
        deadline: Number.POSITIVE_INFINITY,
        caller: undefined,
        delivery: {
          subject: names.subject(type, id, name),
          destination: names.queueName(type),
          messageId: reminderMsgId(key, message),
        },
      };
      await runChain(observers, ctx, () => publishReminder(mesh, message, ctx.headers));
    }
  } catch (err) {
    // Best effort: do not leave a definition without a message behind.
    await kv.delete(key, revision).catch(() => undefined);
    throw err;
  }
}

/** Removes the reminder `name` of actor `type`/`id` (no-op if there is none). */
export async function unremind(
  mesh: MeshConnection,
  cls: ActorClass,
  id: string,
  name: string,
): Promise<void> {
  assertReminderName(name);
  const kv = await reminderBucket(mesh);
  await kv.delete(namesOfReminders(mesh).key(typeNameOf(cls), id, name));
}
