/**
 * `troupe outbox ls|replay|purge --path <dir>`: look at and act on a durable client outbox
 * (docs/patterns/sparse-connectivity.md) on this machine, without connecting to NATS.
 *
 *   troupe outbox ls --path ./outbox [-o json] [--limit N]
 *   troupe outbox replay --path ./outbox
 *   troupe outbox purge --path ./outbox [--pending]
 *
 * `ls` only reads (it works while the owning process runs). `replay` and `purge` change the files,
 * so they need the outbox's lock: stop the process that owns it first.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { TroupeError } from "../errors.js";
import { inspectOutbox, lockOwner, type OutboxEntry, OutboxStore } from "../outbox/index.js";

export const OUTBOX_USAGE = `Usage: troupe outbox <command> --path <dir>

  ls --path <dir> [-o json] [--limit N]   Pending entries and dead letters (with their reasons),
                                          oldest first (N of each, default 20); reports damage.
  replay --path <dir>                     Put every dead letter back in the outbox (same message
                                          id); the next process that opens it forwards them.
  purge --path <dir> [--pending]          Forget every dead letter (--pending: and every pending
                                          entry: they are never sent).`;

export interface OutboxIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: OutboxIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Runs `troupe outbox ...`; returns the exit code (2: wrong invocation, 1: it failed). */
export async function outboxCommand(argv: string[], io: OutboxIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "help" || sub === "--help" || sub === "-h") {
    io.out(OUTBOX_USAGE);
    return 0;
  }
  let values: { path?: string; output?: string; limit?: string; pending?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        path: { type: "string" },
        output: { type: "string", short: "o" },
        limit: { type: "string" },
        pending: { type: "boolean" },
      },
    }));
  } catch (err) {
    return wrong(io, (err as Error).message);
  }
  if (sub === undefined) return wrong(io, "troupe outbox: which command? ls, replay or purge");
  if (!["ls", "replay", "purge"].includes(sub)) return wrong(io, `troupe outbox: unknown command "${sub}"`);
  if (positionals.length > 0)
    return wrong(io, `troupe outbox ${sub}: unexpected argument "${positionals[0]}"`);
  if (!values.path) return wrong(io, `troupe outbox ${sub}: --path <dir> is required`);
  if (values.output !== undefined && values.output !== "json") {
    return wrong(io, `troupe outbox ${sub}: -o takes "json", got "${values.output}"`);
  }
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    return wrong(io, `troupe outbox ${sub}: --limit must be an integer >= 0, got "${values.limit}"`);
  }
  if (values.pending && sub !== "purge") return wrong(io, `troupe outbox ${sub}: --pending is for purge`);
  if (!existsSync(values.path)) {
    io.err(`troupe outbox: no outbox at ${values.path}`);
    return 1;
  }
  try {
    if (sub === "ls") return list(values.path, values.output === "json", limit, io);
    const store = OutboxStore.open(values.path, {
      maxBytes: Number.MAX_SAFE_INTEGER,
      maxMessages: Number.MAX_SAFE_INTEGER,
    });
    try {
      if (store.recovery.summary) io.err(`troupe outbox: repaired: ${store.recovery.summary}`);
      if (sub === "replay") {
        io.out(`${store.replayDeadLetters()} dead letter(s) put back in the outbox at ${values.path}`);
      } else {
        const letters = store.purgeDeadLetters();
        const pending = values.pending ? store.purgePending() : 0;
        io.out(
          `purged ${letters} dead letter(s)${values.pending ? ` and ${pending} pending entr${pending === 1 ? "y" : "ies"}` : ""}`,
        );
      }
    } finally {
      store.close();
    }
    return 0;
  } catch (err) {
    if (err instanceof TroupeError) {
      io.err(`troupe outbox: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

function wrong(io: OutboxIo, line: string): number {
  io.err(line);
  io.err("");
  io.err(OUTBOX_USAGE);
  return 2;
}

function list(dir: string, json: boolean, limit: number, io: OutboxIo): number {
  const { pending, deadLetters, recovery } = inspectOutbox(dir);
  const owner = lockOwner(dir);
  const now = Date.now();
  if (json) {
    io.out(
      JSON.stringify(
        {
          path: dir,
          ownerPid: owner ?? null,
          pending: pending.length,
          bytes: pending.reduce((sum, e) => sum + e.data.length, 0),
          deadLetters: deadLetters.length,
          damage: recovery.summary,
          entries: pending.slice(0, limit).map((e) => row(e, now)),
          dead: deadLetters.slice(0, limit).map((d) => ({
            ...row(d.entry, now),
            reason: d.reason,
            deadAt: new Date(d.deadAtMs).toISOString(),
          })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  io.out(
    `${dir}: ${pending.length} pending, ${deadLetters.length} dead letter(s)` +
      (owner === undefined ? "" : `; owned by process ${owner}`),
  );
  if (recovery.summary) io.out(`damage (repaired when the outbox is next opened): ${recovery.summary}`);
  if (pending.length > 0) {
    io.out("");
    io.out(
      table(
        ["SEQ", "KIND", "SUBJECT", "MSG-ID", "AGE", "BYTES"],
        pending.slice(0, limit).map((e) => cells(e, now)),
      ),
    );
    if (pending.length > limit) io.out(`... and ${pending.length - limit} more`);
  }
  if (deadLetters.length > 0) {
    io.out("");
    io.out("Dead letters:");
    io.out(
      table(
        ["SEQ", "KIND", "SUBJECT", "MSG-ID", "AGE", "BYTES", "REASON"],
        deadLetters.slice(0, limit).map((d) => [...cells(d.entry, now), d.reason]),
      ),
    );
    if (deadLetters.length > limit) io.out(`... and ${deadLetters.length - limit} more`);
  }
  return 0;
}

function row(e: OutboxEntry, now: number) {
  return {
    seq: e.seq,
    kind: e.kind,
    subject: e.subject,
    msgId: e.msgId ?? null,
    writtenAt: new Date(e.atMs).toISOString(),
    ageMs: now - e.atMs,
    bytes: e.data.length,
  };
}

function cells(e: OutboxEntry, now: number): string[] {
  return [String(e.seq), e.kind, e.subject, e.msgId ?? "-", age(now - e.atMs), String(e.data.length)];
}

function age(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${Math.round(ms / 3600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
