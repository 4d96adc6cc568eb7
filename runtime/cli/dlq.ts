/**
 * `troupe dlq ls|show|replay|purge`: inspect and act on dead-lettered jobs.
 *
 *   troupe dlq ls [--type T] [--limit N] [-o json]
 *   troupe dlq show <seq> [-o json]
 *   troupe dlq replay <seq>... | --all [--type T] [--rate N]
 *   troupe dlq purge <seq>... | --all [--type T]
 *
 * Replay sends a dead letter's original bytes and headers back to its queue (deduplicated by a
 * message id derived from the DLQ sequence, so a replay that is interrupted and run again stores
 * each job once), at most `--rate` per second (default 50), with a progress bar on stderr when it is
 * a terminal, or else a plain line `troupe: replaying dead letters 120/400 (5s)` every 5 s.
 */
import { parseArgs } from "node:util";
import { connect } from "../connect.js";
import {
  type DeadLetterEntry,
  deadLetter,
  deadLetters,
  purgeDeadLetter,
  purgeDeadLetters,
  type ReplayOutcome,
  replayDeadLetter,
} from "../jobs/index.js";
import { consoleLogger } from "../log.js";
import type { Mesh } from "../mesh.js";
import { decodeJob } from "../messaging/index.js";
import { decodeEvent } from "../pubsub/index.js";
import { actorTypeFlag, intFlag, outputFlag, positiveFlag, UsageError } from "./args.js";
import { resolveTarget } from "./call.js";
import { countProgress } from "./progress.js";

export const DLQ_USAGE = `Usage: troupe dlq <command>

  ls [--type T] [--limit N] [-o json]        Dead-lettered jobs, oldest first.
  show <seq> [-o json]                       One dead letter: error, attempts, times, headers, job.
  replay <seq>... | --all [--type T]         Send back to their queues (original bytes, deduplicated),
         [--rate N]                          at most N per second (default 50); then remove them here.
                                             Progress on stderr: a bar, or a line every 5 s.
  purge <seq>... | --all [--type T]          Delete dead letters.`;

export interface DlqIo {
  out: (line: string) => void;
  err: NodeJS.WriteStream;
  /** Off a terminal, a replay's progress line at most this often (default 5000 ms). */
  progressEveryMs?: number;
}

const defaultIo: DlqIo = { out: (l) => process.stdout.write(`${l}\n`), err: process.stderr };

/** Runs `troupe dlq ...`; returns the exit code. `mesh` is for tests; the CLI connects by itself. */
export async function dlq(argv: string[], mesh?: Mesh, io: DlqIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      type: { type: "string" },
      limit: { type: "string" },
      rate: { type: "string" },
      all: { type: "boolean" },
      output: { type: "string", short: "o" },
    },
  });
  if (!sub || sub === "help") {
    io.out(DLQ_USAGE);
    return sub ? 0 : 2;
  }
  // Everything the command line can get wrong is checked before connecting.
  if (!["ls", "show", "replay", "purge"].includes(sub)) throw new UsageError(`unknown dlq command "${sub}"`);
  const json = outputFlag(values.output) === "json";
  const limit = intFlag(values.limit, "--limit", { min: 1 }) ?? 100;
  const rate = positiveFlag(values.rate, "--rate") ?? 50;
  const seqs = values.all === true ? [] : positionals.map(seqArg);
  const type = actorTypeFlag(values.type);
  if (sub === "show" && seqs.length !== 1) throw new UsageError("show takes one sequence number");
  if (sub === "replay" && seqs.length === 0 && values.all !== true) {
    throw new UsageError("name the sequences to replay, or pass --all");
  }
  const own = mesh === undefined;
  const m = mesh ?? (await openMesh());
  try {
    switch (sub) {
      case "ls": {
        const rows: DeadLetterEntry[] = [];
        for await (const e of deadLetters(m, type ? { type } : {})) {
          rows.push(e);
          if (rows.length >= limit) break;
        }
        if (json) io.out(JSON.stringify(rows.map(summary), null, 2));
        else io.out(table(rows));
        return 0;
      }
      case "show": {
        const seq = seqArg(positionals[0]);
        const e = await deadLetter(m, seq);
        if (!e) {
          io.err.write(`no dead letter with sequence ${seq}\n`);
          return 1;
        }
        io.out(JSON.stringify(details(e), null, 2));
        return 0;
      }
      case "replay": {
        const seqs = await selection(m, positionals, values.all === true, type);
        const counts: Record<ReplayOutcome, number> = { replayed: 0, duplicate: 0, missing: 0 };
        const bar = countProgress(io.err, "replaying dead letters", seqs.length, {
          ...(io.progressEveryMs !== undefined ? { everyMs: io.progressEveryMs } : {}),
        });
        const gap = 1000 / rate;
        let next = performance.now();
        for (const seq of seqs) {
          const wait = next - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          next = Math.max(next + gap, performance.now());
          counts[await replayDeadLetter(m, seq)]++;
          bar.tick();
        }
        bar.done();
        io.out(
          `replayed ${counts.replayed}, already replayed ${counts.duplicate}, missing ${counts.missing}`,
        );
        return 0;
      }
      case "purge": {
        if (values.all === true) {
          const n = await purgeDeadLetters(m, type ? { type } : {});
          io.out(`purged ${n}`);
          return 0;
        }
        let n = 0;
        for (const p of positionals) if (await purgeDeadLetter(m, seqArg(p))) n++;
        io.out(`purged ${n}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown dlq command "${sub}"`);
    }
  } finally {
    if (own) await m.close();
  }
}

async function openMesh(): Promise<Mesh> {
  const { url, prefix } = await resolveTarget();
  return connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
}

function seqArg(s: string | undefined): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`expected a DLQ sequence number, got "${s ?? ""}"`);
  return n;
}

async function selection(
  m: Mesh,
  positionals: string[],
  all: boolean,
  type: string | undefined,
): Promise<number[]> {
  if (!all) {
    return positionals.map(seqArg);
  }
  const seqs: number[] = [];
  for await (const e of deadLetters(m, type ? { type } : {})) seqs.push(e.seq);
  return seqs;
}

function summary(e: DeadLetterEntry) {
  return {
    seq: e.seq,
    type: e.type,
    jobId: e.jobId ?? null,
    actorId: e.actorId ?? null,
    method: e.method ?? null,
    reason: e.reason,
    attempts: e.attempts,
    code: e.error.code,
    message: e.error.message,
    failedAt: new Date(e.failedAtMs).toISOString(),
  };
}

/** The dead letter's payload, decoded for reading: a job's arguments, or an event. */
function payload(e: DeadLetterEntry): { args?: unknown; event?: unknown } {
  try {
    if (e.source === "event") {
      const headers = e.originalHeaders ?? {};
      return {
        event: decodeEvent(e.data, {
          get: (k) => headers[k] ?? "",
          has: (k) => k in headers,
          keys: () => Object.keys(headers),
        }),
      };
    }
    return { args: decodeJob(e.data).args };
  } catch {
    return {}; // not decodable: the raw bytes are shown as base64
  }
}

function details(e: DeadLetterEntry) {
  return {
    ...summary(e),
    error: e.error,
    host: e.host,
    enqueuedAt: new Date(e.enqueuedAtMs).toISOString(),
    deadLetteredAt: new Date(e.deadLetteredAtMs).toISOString(),
    originalSubject: e.originalSubject,
    originalSeq: e.originalSeq,
    originalHeaders: e.originalHeaders,
    ...payload(e),
    bytes: Buffer.from(e.data).toString("base64"),
  };
}

function table(rows: DeadLetterEntry[]): string {
  if (rows.length === 0) return "no dead letters";
  const head = ["SEQ", "TYPE", "ACTOR", "METHOD", "REASON", "ATTEMPTS", "CODE", "FAILED AT", "MESSAGE"];
  const body = rows.map((e) => [
    String(e.seq),
    e.type,
    e.actorId ?? "-",
    e.method ?? "-",
    e.reason,
    String(e.attempts),
    e.error.code,
    new Date(e.failedAtMs).toISOString(),
    e.error.message.slice(0, 60),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  return [head, ...body]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
