/** `troupe outbox ls|replay|purge --path <dir>`: on real outbox files, and its wrong invocations. */
import { rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import { OUTBOX_USAGE, outboxCommand } from "../../runtime/cli/outbox.js";
import { OutboxStore } from "../../runtime/outbox/index.js";

const LIMITS = { maxBytes: 1 << 20, maxMessages: 1000 };

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

async function outboxWithEntries(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-outbox-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = OutboxStore.open(dir, LIMITS);
  const data = new TextEncoder().encode("x");
  const first = store.append({ kind: "event", subject: "t.evt.a", data, msgId: "e1" }).entry;
  store.append({ kind: "job", subject: "t.jobs.Cart.j2", data, msgId: "j2" });
  store.append({ kind: "tell", subject: "t.rpc.Cart.3", data });
  store.deadLetter(first, "expired: test reason");
  store.close();
  return dir;
}

const WRONG: [string, string[], RegExp][] = [
  ["no command", [], /which command/],
  ["an unknown command", ["show", "--path", "x"], /unknown command "show"/],
  ["no --path", ["ls"], /--path <dir> is required/],
  ["an unknown option", ["ls", "--path", "x", "--force"], /Unknown option '--force'/],
  ["a stray argument", ["purge", "--path", "x", "now"], /unexpected argument "now"/],
  ["--path without its value", ["ls", "--path"], /--path/],
  ["a bad -o", ["ls", "--path", "x", "-o", "yaml"], /-o takes "json"/],
  ["a bad --limit", ["ls", "--path", "x", "--limit", "many"], /--limit must be an integer/],
  ["--pending on ls", ["ls", "--path", "x", "--pending"], /--pending is for purge/],
];

for (const [what, argv, message] of WRONG) {
  test(`outbox cli - ${what}: one line and the usage, exit 2`, async (t) => {
    const c = io();
    t.is(await outboxCommand(argv, c.io), 2);
    t.regex(c.err[0] ?? "", message);
    t.is(c.err.at(-1), OUTBOX_USAGE);
    t.false(c.err.join("\n").includes("    at "), "no stack trace");
    t.deepEqual(c.out, []);
  });
}

test("outbox cli - a path with no outbox: exit 1 and says so", async (t) => {
  const c = io();
  t.is(await outboxCommand(["ls", "--path", path.join(os.tmpdir(), "no-such-outbox-here")], c.io), 1);
  t.regex(c.err[0] ?? "", /no outbox at/);
});

test("outbox cli - ls lists pending entries and dead letters with their reason; -o json too", async (t) => {
  const dir = await outboxWithEntries(t);
  const c = io();
  t.is(await outboxCommand(["ls", "--path", dir], c.io), 0);
  const text = c.out.join("\n");
  t.regex(text, /2 pending, 1 dead letter\(s\)/);
  t.regex(text, /job\s+t\.jobs\.Cart\.j2\s+j2/);
  t.regex(text, /tell\s+t\.rpc\.Cart\.3\s+-/);
  t.regex(text, /Dead letters:[\s\S]*e1[\s\S]*expired: test reason/);
  const j = io();
  t.is(await outboxCommand(["ls", "--path", dir, "-o", "json"], j.io), 0);
  const parsed = JSON.parse(j.out.join("\n")) as {
    pending: number;
    dead: { msgId: string; reason: string }[];
  };
  t.is(parsed.pending, 2);
  t.deepEqual(
    parsed.dead.map((d) => [d.msgId, d.reason]),
    [["e1", "expired: test reason"]],
  );
});

test("outbox cli - replay puts dead letters back; purge --pending empties it; both refuse a live owner", async (t) => {
  const dir = await outboxWithEntries(t);
  const c = io();
  t.is(await outboxCommand(["replay", "--path", dir], c.io), 0);
  t.regex(c.out[0] ?? "", /^1 dead letter\(s\) put back/);
  const store = OutboxStore.open(dir, LIMITS);
  t.deepEqual(
    [...store.entries()].map((e) => e.msgId ?? e.kind),
    ["j2", "tell", "e1"],
  );
  store.close();
  // While another live process owns it (this test's parent stands in for it).
  writeFileSync(path.join(dir, "lock"), String(process.ppid));
  const locked = io();
  t.is(await outboxCommand(["purge", "--path", dir], locked.io), 1);
  t.regex(locked.err[0] ?? "", /TROUPE_OUTBOX_LOCKED: the outbox at .* is in use by process/);
  rmSync(path.join(dir, "lock"));
  const p = io();
  t.is(await outboxCommand(["purge", "--path", dir, "--pending"], p.io), 0);
  t.is(p.out[0], "purged 0 dead letter(s) and 3 pending entries");
  const after = io();
  await outboxCommand(["ls", "--path", dir], after.io);
  t.regex(after.out[0] ?? "", /0 pending, 0 dead letter\(s\)/);
});
