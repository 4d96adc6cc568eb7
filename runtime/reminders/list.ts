/**
 * What reminders a mesh has (`troupe ls reminders`): each definition, with its pending occurrence
 * read from the stream. A reminder with no pending occurrence is one a sweep will restore
 * (sweep.ts), unless it was set a moment ago.
 */
import type { MeshConnection } from "../durable/index.js";
import type { ReminderNames } from "../messaging/index.js";
import { inBatches, jetStreamQueues, type KeyValueBucket } from "../transport/index.js";
import { decodeJson, namesOfReminders, type ReminderDefinition, type ReminderMessage } from "./store.js";

export interface ReminderRow {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  /** The period of a periodic reminder; null for a one-shot one. */
  readonly everyMs: number | null;
  readonly firstDueAtMs: number;
  readonly setAtMs: number;
  /** Messages waiting on the reminder's subject: 1 normally, 0 while lost (a sweep restores it). */
  readonly pending: number;
  /** When the pending occurrence is due (or its retry may run); null when none is pending. */
  readonly nextDueAtMs: number | null;
  /** The pending occurrence's attempt (above 1: its handler failed and it is being retried). */
  readonly attempt: number | null;
  /** How many times a sweep restored a lost occurrence of this reminder. */
  readonly repairs: number;
}

/** Reads in flight at once while listing. */
const READS_IN_FLIGHT = 32;

/** Every reminder (of `type`, if given), sorted by type, id and name. */
export async function listReminders(mesh: MeshConnection, type?: string): Promise<ReminderRow[]> {
  const names = namesOfReminders(mesh);
  const kv = await mesh.transport.existingKeyValue(names.bucket());
  if (!kv) return [];
  // The type's filter first: it refuses a name that is not one (a wildcard would list other types).
  const filter = type ? names.typeFilter(type) : names.streamFilter();
  const [keys, pending] = await Promise.all([
    kv.keys(type ? `${type}.>` : ">"),
    jetStreamQueues(mesh.transport).subjectCounts(names.stream(), filter),
  ]);
  const rows: (ReminderRow | null)[] = new Array(keys.length).fill(null);
  await inBatches(
    keys.map((key, i) => async () => {
      rows[i] = await rowOf(mesh, kv, names, key, pending);
    }),
    READS_IN_FLIGHT,
  );
  return rows
    .filter((r): r is ReminderRow => r !== null)
    .sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id) || a.name.localeCompare(b.name));
}

async function rowOf(
  mesh: MeshConnection,
  kv: KeyValueBucket,
  names: ReminderNames,
  key: string,
  pending: Map<string, number>,
): Promise<ReminderRow | null> {
  // A type's sweep key is the type name alone; a definition's key has three tokens or more.
  if (key.split(".").length < 3) return null;
  const rec = await kv.get(key);
  if (!rec) return null;
  let def: ReminderDefinition;
  try {
    def = decodeJson<ReminderDefinition>(rec.value);
  } catch {
    return null; // not written by Troupe
  }
  const subject = names.subject(def.type, def.id, def.name);
  const count = pending.get(subject) ?? 0;
  const last =
    count > 0 ? await jetStreamQueues(mesh.transport).lastBySubject(names.stream(), subject, false) : null;
  let next: ReminderMessage | undefined;
  try {
    next = last ? decodeJson<ReminderMessage>(last.data) : undefined;
  } catch {
    next = undefined;
  }
  return {
    type: def.type,
    id: def.id,
    name: def.name,
    everyMs: def.everyMs ?? null,
    firstDueAtMs: def.firstDueAtMs,
    setAtMs: def.setAtMs,
    pending: count,
    nextDueAtMs: next ? Math.max(next.dueAtMs, next.notBeforeMs ?? 0) : null,
    attempt: next ? next.attempt : null,
    repairs: def.repairs ?? 0,
  };
}
