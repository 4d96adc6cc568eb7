/**
 * `troupe publish` and `troupe subs`:
 *
 *   troupe publish <topic> <json> [--msg-id ID] [--ephemeral]
 *   troupe subs ls [-o json]
 *   troupe subs tail <pattern> [--filter EXPR] [--count N]
 *
 * `publish` sends one event (durable by default: exits 0 once JetStream stored it, and prints its
 * sequence). `subs ls` lists the durable subscriptions with their backlog. `subs tail` prints the
 * events matching a pattern and a filter expression as JSON lines, as they are published (a core
 * NATS subscription: it takes nothing away from the real subscribers).
 */
import { parseArgs } from "node:util";
import { connect } from "../connect.js";
import { consoleLogger } from "../log.js";
import type { Mesh } from "../mesh.js";
import {
  assertPattern,
  compileFilter,
  decodeEvent,
  eventNamesOf,
  listSubscriptions,
  publish,
  type SubscriptionRow,
} from "../pubsub/index.js";
import { intFlag, outputFlag, UsageError } from "./args.js";
import { resolveTarget } from "./call.js";

export const PUBLISH_USAGE = `Usage: troupe publish <topic> <json> [--msg-id ID] [--ephemeral]

  Publishes one event. Durable by default (waits for JetStream to store it; --msg-id deduplicates);
  --ephemeral sends it with core NATS, fire-and-forget.`;

export const SUBS_USAGE = `Usage: troupe subs <command>

  ls [-o json]                               Durable subscriptions: type, method, pattern, filter,
                                             pending and unacknowledged events.
  tail <pattern> [--filter EXPR] [--count N] Print matching events as JSON lines as they arrive.`;

export interface PubSubIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** `subs tail` stops when this resolves (default: SIGINT). */
  interrupted?: Promise<void>;
}

const defaultIo = (): PubSubIo => ({
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
});

async function openMesh(): Promise<Mesh> {
  const { url, prefix } = await resolveTarget();
  return connect({ servers: url, prefix, name: "troupe-cli", logger: consoleLogger("warn") });
}

async function withMesh(mesh: Mesh | undefined, f: (m: Mesh) => Promise<number>): Promise<number> {
  const m = mesh ?? (await openMesh());
  try {
    return await f(m);
  } finally {
    if (!mesh) await m.close();
  }
}

/** `troupe publish ...`; returns the exit code. `mesh` is for tests; the CLI connects by itself. */
export async function publishCommand(
  argv: string[],
  mesh?: Mesh,
  io: PubSubIo = defaultIo(),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { "msg-id": { type: "string" }, ephemeral: { type: "boolean" } },
  });
  const [topic, json] = positionals;
  if (!topic || json === undefined) throw new UsageError("expected <topic> <json>");
  if (positionals.length > 2) throw new UsageError(`too many arguments (${positionals.slice(2).join(" ")})`);
  let event: unknown;
  try {
    event = JSON.parse(json);
  } catch {
    throw new UsageError(`the event must be JSON: ${json}`);
  }
  return withMesh(mesh, async (m) => {
    const r = await publish(m, topic, event, {
      durable: values.ephemeral !== true,
      ...(values["msg-id"] ? { msgId: values["msg-id"] } : {}),
    });
    if (!r.durable) io.out(`published on ${r.topic} (ephemeral)`);
    else if (r.duplicate) io.out(`duplicate of message ${values["msg-id"]}: already stored as ${r.seq}`);
    else io.out(`published on ${r.topic}: stored as ${r.seq}`);
    return 0;
  });
}

/** `troupe subs ...`; returns the exit code. */
export async function subsCommand(argv: string[], mesh?: Mesh, io: PubSubIo = defaultIo()): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      filter: { type: "string" },
      count: { type: "string" },
    },
  });
  switch (sub) {
    case "ls":
      return withMesh(mesh, async (m) => {
        const rows = await listSubscriptions(m);
        io.out(outputFlag(values.output) === "json" ? JSON.stringify(rows, null, 2) : table(rows));
        return 0;
      });
    case "tail": {
      const pattern = positionals[0];
      if (!pattern) throw new UsageError("subs tail needs a <pattern>");
      assertPattern(pattern);
      const filter = values.filter ? compileFilter(values.filter) : undefined;
      const count = intFlag(values.count, "--count", { min: 1 }) ?? Number.POSITIVE_INFINITY;
      return withMesh(mesh, (m) => tail(m, pattern, filter, count, io));
    }
    case "help":
      io.out(SUBS_USAGE);
      return 0;
    default:
      throw new UsageError(sub ? `unknown subs command "${sub}"` : "name a command: ls or tail");
  }
}

async function tail(
  m: Mesh,
  pattern: string,
  filter: ((e: unknown) => boolean) | undefined,
  count: number,
  io: PubSubIo,
): Promise<number> {
  const names = eventNamesOf(m);
  let seen = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const sub = m.transport.subscribe(names.subject(pattern), {}, (msg) => {
    if (seen >= count) return;
    let event: unknown;
    try {
      event = decodeEvent(msg.data, msg.headers);
    } catch (err) {
      io.err(`undecodable event on ${msg.subject}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (filter && !filter(event)) return;
    seen++;
    io.out(JSON.stringify({ topic: names.topicOf(msg.subject), event }));
    if (seen >= count) done();
  });
  await m.transport.flush();
  const interrupted =
    io.interrupted ??
    new Promise<void>((r) => {
      process.once("SIGINT", () => r());
    });
  await Promise.race([finished, interrupted]);
  sub.unsubscribe();
  return 0;
}

function table(rows: SubscriptionRow[]): string {
  if (rows.length === 0) return "no durable subscriptions";
  const head = [
    "NAME",
    "PATTERN",
    "FILTER",
    "KEYED",
    "ORDERED",
    "START",
    "PENDING",
    "UNACKED",
    "REDELIVERED",
  ];
  const body = rows.map((r) => [
    r.name,
    r.mqtt ? `${r.pattern} (mqtt)` : r.hub ? `${r.pattern} (from hub)` : r.pattern,
    r.filter ?? "-",
    r.keyed ? "yes" : "no",
    r.ordered ? "yes" : "no",
    r.startAt,
    String(r.pending),
    String(r.ackPending),
    String(r.redelivered),
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
