/**
 * Restoring reminders whose pending occurrence was lost. The bucket says what reminders exist;
 * the stream holds each one's next occurrence, on the reminder's own subject. A live chain always
 * has a message there: `remind()` publishes occurrence 0 right after writing the definition, and
 * a runner publishes the next occurrence (or a retry) before it acks the current one. A definition
 * with no message is one whose chain was lost: its setter died between the two writes of
 * `remind()`, or the stream lost the message (purged, recreated, restored from an older backup).
 * Left alone such a reminder would never fire again, silently.
 *
 * A sweep of one type, run by one host at a time (a compare-and-set on the type's sweep key),
 * every `sweepEveryMs`:
 *
 * 1. lists the type's definitions (the bucket's subjects) and the subjects of the stream holding a
 *    message: two reads, whatever the number of reminders;
 * 2. for each definition without a message, reads the definition again and its subject's last
 *    message (the listing is paged, so it is only a hint), and skips one written (set or repaired)
 *    less than `graceMs` ago (its first message may still be on its way): by the server's clock
 *    alone, the time JetStream stored the definition against the time it stored the sweep key;
 * 3. records the repair in the definition with a compare-and-set on the revision read in 2 (a
 *    `remind()` or another sweeper meanwhile makes it fail: nothing is published), then publishes
 *    the occurrence due most recently (or the first, if none is due yet), marked with the repair's
 *    number so its message ids, and those of the chain it starts, are new.
 *
 * The order of 2 and 3 makes a second chain impossible unless a message takes longer than
 * `graceMs` to be stored after its definition was written; the default grace (2 minutes) is the
 * stream's duplicate window and 24 times a publish's timeout. No host's clock is compared with
 * another's.
 *
 * A restored occurrence may have fired already (its message was lost after the turn ran and before
 * the next one was stored): it fires again. That is the reminders' guarantee, at least once.
 */
import { hostname } from "node:os";
import type { MeshConnection } from "../durable/index.js";
import type { ReminderNames } from "../messaging/index.js";
import { jetStreamQueues, type KeyValueBucket, RevisionMismatchError } from "../transport/index.js";
import {
  decodeJson,
  encodeJson,
  publishReminder,
  type ReminderDefinition,
  type ReminderMessage,
} from "./store.js";

/** What one sweep of a type found and did. */
export interface SweepReport {
  /** Definitions of the type. */
  readonly definitions: number;
  /** Definitions without a pending occurrence that were set or repaired too recently to judge. */
  readonly recent: number;
  /** Lost occurrences published again. */
  readonly restored: number;
}

/** Reads of definitions and messages in flight at once during a sweep. */
const SWEEP_READS_IN_FLIGHT = 16;

export interface SweepOnce {
  /** A definition written less than this long before `nowMs` is left alone. */
  readonly graceMs: number;
  /** The server's time when the sweep began (the sweep key's write time); default this host's clock. */
  readonly nowMs?: number;
  /** Checked between batches: true ends the sweep early. */
  readonly stopped?: () => boolean;
}

/** Sweeps the reminders of `type` once (see the module comment). */
export async function sweepReminders(
  mesh: MeshConnection,
  kv: KeyValueBucket,
  names: ReminderNames,
  type: string,
  options: SweepOnce,
): Promise<SweepReport> {
  const { graceMs, nowMs = Date.now(), stopped = () => false } = options;
  const q = jetStreamQueues(mesh.transport);
  const filter = names.typeFilter(type);
  const [keys, pending] = await Promise.all([kv.keys(`${type}.>`), q.subjectCounts(names.stream(), filter)]);
  const prefix = `${names.prefix}.reminders.`;
  const suspects = keys.filter((key) => !pending.has(prefix + key));
  let recent = 0;
  let restored = 0;
  for (let i = 0; i < suspects.length && !stopped(); i += SWEEP_READS_IN_FLIGHT) {
    const outcomes = await Promise.all(
      suspects.slice(i, i + SWEEP_READS_IN_FLIGHT).map((key) => restoreIfLost(key)),
    );
    for (const o of outcomes) {
      if (o === "recent") recent += 1;
      else if (o === "restored") restored += 1;
    }
  }
  return { definitions: keys.length, recent, restored };

  async function restoreIfLost(key: string): Promise<"recent" | "restored" | "live"> {
    const rec = await kv.get(key);
    if (!rec) return "live"; // removed meanwhile (unremind, a one-shot that fired)
    let def: ReminderDefinition;
    try {
      def = decodeJson<ReminderDefinition>(rec.value);
    } catch (err) {
      mesh.logger.warn("reminder sweep skipped a definition that is not JSON", { key, err });
      return "live";
    }
    // A definition's write time (server) against the sweep's start (server): ages only grow, so a
    // long sweep judges late definitions younger than they are, never older.
    if (nowMs - (rec.createdMs ?? def.setAtMs) < graceMs) return "recent";
    const subject = names.subject(def.type, def.id, def.name);
    if (await q.lastBySubject(names.stream(), subject, false)) return "live";
    const repairs = (def.repairs ?? 0) + 1;
    try {
      await kv.compareAndSet(key, encodeJson({ ...def, repairs }), rec.revision);
    } catch (err) {
      if (err instanceof RevisionMismatchError) return "live"; // set again, or another sweeper
      throw err;
    }
    const message: ReminderMessage = {
      type: def.type,
      id: def.id,
      name: def.name,
      generation: def.generation,
      n: 0,
      attempt: 1,
      dueAtMs: restoredDueAtMs(def, Date.now()),
      repair: repairs,
    };
    await publishReminder(mesh, message);
    mesh.logger.warn("reminder restored: its pending occurrence was missing from the stream", {
      actorType: def.type,
      actorId: def.id,
      reminder: def.name,
      dueAtMs: message.dueAtMs,
      repairs,
    });
    return "restored";
  }
}

/**
 * The occurrence a restored chain starts with: the first one while it is not due yet, else (a
 * one-shot reminder's only one, or) the periodic reminder's occurrence due most recently, which
 * fires at once.
 */
export function restoredDueAtMs(
  def: Pick<ReminderDefinition, "firstDueAtMs" | "everyMs">,
  now: number,
): number {
  const first = def.firstDueAtMs;
  if (!def.everyMs || now <= first) return first;
  return first + Math.floor((now - first) / def.everyMs) * def.everyMs;
}

const HOST = `${hostname()}/${process.pid}`;

/** What a type's sweep key holds: when it was last swept, by whom (host name / pid). */
interface SweepMark {
  readonly atMs: number;
  readonly host: string;
}

/**
 * Sweeps `type` if no host did in the last `everyMs` (90% of it, so hosts whose timers run
 * together do not skip a round): the sweep key's compare-and-set picks one host. Null when this
 * host did not sweep.
 */
export async function sweepIfDue(
  mesh: MeshConnection,
  kv: KeyValueBucket,
  names: ReminderNames,
  type: string,
  options: SweepOptions,
  stopped: () => boolean,
): Promise<SweepReport | null> {
  const key = names.sweepKey(type);
  const rec = await kv.get(key);
  const last = rec ? markOf(rec.value) : undefined;
  const now = Date.now();
  if (last?.atMs !== undefined && now - last.atMs < options.everyMs * 0.9) return null;
  try {
    await kv.compareAndSet(
      key,
      encodeJson({ atMs: now, host: HOST } satisfies SweepMark),
      rec?.revision ?? 0,
    );
  } catch (err) {
    if (err instanceof RevisionMismatchError) return null; // another host sweeps this round
    throw err;
  }
  // The server's time now: when it stored the mark.
  const nowMs = (await kv.get(key))?.createdMs;
  const report = await sweepReminders(mesh, kv, names, type, {
    graceMs: options.graceMs,
    ...(nowMs === undefined ? {} : { nowMs }),
    stopped,
  });
  const fields = { actorType: type, ...report };
  if (report.restored > 0) mesh.logger.warn("reminder sweep restored lost occurrences", fields);
  else mesh.logger.debug("reminder sweep", fields);
  return report;
}

export interface SweepOptions {
  /** How often a type is swept (by one of its hosts). */
  readonly everyMs: number;
  /** See {@link sweepReminders}. */
  readonly graceMs: number;
}

function markOf(bytes: Uint8Array): Partial<SweepMark> | undefined {
  try {
    return decodeJson<Partial<SweepMark>>(bytes);
  } catch {
    return undefined; // not a mark Troupe wrote: this round overwrites it
  }
}

/** A host's sweeps of its types' reminders: one type after another, every `everyMs` or so. */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly mesh: MeshConnection,
    private readonly kv: KeyValueBucket,
    private readonly names: ReminderNames,
    private readonly types: readonly string[],
    private readonly options: SweepOptions,
  ) {}

  /** Schedules the first round at a random point of the first interval (hosts started together spread out). */
  start(): void {
    this.schedule(this.options.everyMs * (0.1 + 0.9 * Math.random()));
  }

  /** No new round; waits for the one under way, which stops between batches. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        this.schedule(this.options.everyMs * (0.9 + 0.2 * Math.random()));
      });
    }, delayMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    for (const type of this.types) {
      if (this.stopped) return;
      try {
        await sweepIfDue(this.mesh, this.kv, this.names, type, this.options, () => this.stopped);
      } catch (err) {
        if (this.stopped) return;
        this.mesh.logger.warn("reminder sweep failed; it runs again next round", { actorType: type, err });
      }
    }
  }
}
