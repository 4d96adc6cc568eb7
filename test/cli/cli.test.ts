/**
 * The `troupe` command line: every wrong invocation is one line saying what is wrong, then that
 * command's usage, exit code 2, never a stack trace; failures print the remote error's class.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { Actor } from "troupe";
import type { CliIo } from "../../runtime/cli/command.js";
import { COMMANDS, main } from "../../runtime/cli/main.js";
import { whileWaiting } from "../../runtime/cli/progress.js";
import { startMesh } from "../helpers/mesh.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function capture(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

const usageOf = (name: string) => COMMANDS.find((c) => c.name === name)?.usage as string;

// [argv, the command whose usage follows, what the first line must say]
const WRONG: [string[], string, RegExp][] = [
  [["call", "Inventory", "tea", "restock", "-5"], "call", /^troupe call: unknown option -5 .*"--".*-- -5/],
  [
    ["call", "Cart", "alice"],
    "call",
    /^troupe call: expected at least 3 argument\(s\): <Type> <id> <method> \[json\]$/,
  ],
  [["call", "Cart", "alice", "add", "[1", "--timeout", "10"], "call", /^troupe call: arguments must be JSON/],
  [
    ["call", "Cart", "alice", "add", "--timeout", "abc"],
    "call",
    /^troupe call: --timeout must be a whole number/,
  ],
  [["call", "Cart", "alice", "add", "--timeout"], "call", /^troupe call: --timeout needs a value/],
  [["call", "Cart", "alice", "add", "[]", "extra"], "call", /^troupe call: too many arguments \(extra\)/],
  [["ls"], "ls", /^troupe ls: expected 1 argument\(s\): hosts\|shards\|actors/],
  [["ls", "hosts", "--json"], "ls", /^troupe ls: unknown option --json/],
  [["ls", "hosts", "-o", "yaml"], "ls", /^troupe ls: -o must be table or json \(got "yaml"\)/],
  [["ls", "nodes"], "ls", /^troupe ls: expected one of hosts, shards, actors, reminders; got "nodes"/],
  [
    ["ls", "reminders", "--type", "*"],
    "ls",
    /^troupe ls: --type "\*" must be 1-64 characters of letters, digits/,
  ],
  [
    ["dlq", "purge", "--all", "--type", ">"],
    "dlq",
    /^troupe dlq: --type ">" must be 1-64 characters of letters/,
  ],
  [["dev", "--gateway-port", "http"], "dev", /^troupe dev: --gateway-port must be a whole number/],
  [["dev", "a.ts", "b.ts"], "dev", /^troupe dev: too many arguments \(b\.ts\)/],
  [["dev", "--autoscale-policy", "max=2"], "dev", /^troupe dev: --autoscale-policy needs --autoscale$/],
  [
    ["dev", "--autoscale", "--autoscale-policy", "max=two"],
    "dev",
    /^troupe dev: --autoscale-policy: maxHosts must be a whole number >= 1, got NaN$/,
  ],
  [
    ["dev", "--autoscale", "--autoscale-policy", "speed=9"],
    "dev",
    /^troupe dev: --autoscale-policy: unknown key "speed"/,
  ],
  [["dev", "--autoscale", "--add"], "dev", /^troupe dev: --autoscale cannot be combined with --add$/],
  [
    ["host", "--health-port", "99999"],
    "host",
    /^troupe host: --health-port must be a whole number, 0\.\.65535/,
  ],
  [["host", "--replicas", "0"], "host", /^troupe host: --replicas must be a whole number, 1\.\.5/],
  [["dlq", "ls", "--limit", "ten"], "dlq", /^troupe dlq: --limit must be a whole number/],
  [
    ["dlq", "replay", "--rate", "-3"],
    "dlq",
    /^troupe dlq: --rate needs a value \(one that starts with "-" is written --rate=-1\)/,
  ],
  [["dlq", "replay", "--rate=-3", "--all"], "dlq", /^troupe dlq: --rate must be a positive number/],
  [["dlq", "show", "x"], "dlq", /^troupe dlq: expected a DLQ sequence number, got "x"/],
  [["dlq", "frobnicate"], "dlq", /^troupe dlq: unknown dlq command "frobnicate"/],
  [["init"], "init", /^troupe init: expected 1 argument\(s\): <dir>$/],
  [["init", "a", "b"], "init", /^troupe init: too many arguments \(b\)/],
  [
    ["init", "app", "--troupe", "./no-such-troupe.tgz"],
    "init",
    /^troupe init: --troupe \.\/no-such-troupe\.tgz: no such file$/,
  ],
  [["publish", "orders.created"], "publish", /^troupe publish: expected <topic> <json>/],
  [["subs", "tail", "x", "--count", "0"], "subs", /^troupe subs: --count must be a whole number, 1 or more/],
  [["throttle", "ls", "--bogus"], "throttle", /^troupe throttle: unknown option --bogus/],
  [["throttle", "ls", "-o", "yaml"], "throttle", /^troupe throttle: -o must be table or json/],
];

for (const [argv, command, line] of WRONG) {
  test(`cli - \`troupe ${argv.join(" ")}\` says what is wrong, prints ${command}'s usage, exits 2`, async (t) => {
    const { io, out, err } = capture();
    t.is(await main(argv, io), 2);
    t.deepEqual(out, []);
    t.is(err.length, 2, err.join("\n"));
    t.regex(err[0] ?? "", line);
    t.false((err[0] ?? "").includes("\n"), "the reason is one line");
    t.is(err[1], usageOf(command));
    t.notRegex(err.join("\n"), /^\s+at /m);
  });
}

test("cli - an unknown command names it and lists the commands, exit 2", async (t) => {
  const { io, err } = capture();
  t.is(await main(["frob"], io), 2);
  t.is(err[0], 'troupe: unknown command "frob"');
  t.regex(err[1] ?? "", /Commands:\n {2}init +\S[\s\S]*\n {2}dev +\S/);
});

test("cli - `troupe <command> --help` prints that command's usage only, exit 0", async (t) => {
  for (const c of COMMANDS) {
    const { io, out } = capture();
    t.is(await main([c.name, "--help"], io), 0, c.name);
    t.deepEqual(out, [c.usage]);
  }
  const { io, out } = capture();
  t.is(await main(["help", "call"], io), 0);
  t.deepEqual(out, [usageOf("call")]);
});

test("cli - every usage documents -- for arguments that start with -, and the overview lists every command", async (t) => {
  const { io, out } = capture();
  t.is(await main(["help"], io), 0);
  for (const c of COMMANDS) t.regex(out[0] ?? "", new RegExp(`^ {2}${c.name} +\\S`, "m"));
  t.regex(out[0] ?? "", /goes after "--": troupe call Inventory tea restock -- -5/);
  t.regex(usageOf("call"), /troupe call Inventory tea restock -- -5/);
});

class Shelf extends Actor<{ count: number }> {
  static initialState = () => ({ count: 0 });
  async restock(n: number): Promise<number> {
    if (n < 0) throw new RangeError(`cannot restock ${n}`);
    this.state.count += n;
    return this.state.count;
  }
}

class Ghost extends Actor {
  async ping(): Promise<string> {
    return "pong";
  }
}

test.serial(
  "cli - against a mesh: results, the remote error class, ls --type and -o json, a progress line while waiting",
  async (t) => {
    const fx = await startMesh(t);
    const host = await fx.mesh.host([Shelf]);
    t.teardown(() => host.drain());
    // A type that was served once and has no host now: calls wait for one until their deadline.
    const other = await fx.connectAnother();
    const ghosts = await other.host([Ghost]);
    await ghosts.drain();
    const prefix = (fx.mesh as unknown as { subjects: { prefix: string } }).subjects.prefix;
    const before = { NATS_URL: process.env.NATS_URL, TROUPE_PREFIX: process.env.TROUPE_PREFIX };
    process.env.NATS_URL = fx.url;
    process.env.TROUPE_PREFIX = prefix;
    t.teardown(() => Object.assign(process.env, before));

    let r = capture();
    t.is(await main(["call", "Shelf", "s1", "restock", "--", "3"], r.io), 0, r.err.join("\n"));
    t.deepEqual(r.out, ["3"]);

    r = capture();
    t.is(await main(["call", "Shelf", "s1", "restock", "--", "-5"], r.io), 1);
    t.deepEqual(r.err, ["troupe: RangeError: cannot restock -5 [TROUPE_ACTOR_METHOD_FAILED]"]);

    r = capture();
    t.is(await main(["ls", "shards", "--type", "Shelf", "-o", "json"], r.io), 0, r.err.join("\n"));
    const shards = JSON.parse(r.out[0] ?? "[]") as { type: string }[];
    t.true(shards.length > 0);
    t.true(shards.every((s) => s.type === "Shelf"));

    r = capture();
    t.is(await main(["ls", "shards", "--type", "Nobody"], r.io), 0);
    t.deepEqual(r.out, ["TYPE  SHARD  HOSTNAME  HOSTID  REVISION"]);

    r = capture();
    t.is(await main(["ls", "hosts", "-o", "json"], r.io), 0);
    const hosts = JSON.parse(r.out[0] ?? "[]") as { types: string[] }[];
    t.true(hosts.some((h) => h.types.includes("Shelf")));

    r = capture();
    t.is(await main(["call", "Ghost", "g1", "ping", "--timeout", "3000"], r.io), 1);
    t.regex(r.err[0] ?? "", /^troupe: waiting for Ghost g1 ping\.\.\. \(\d+s\)$/);
    t.regex(r.err.at(-1) ?? "", /^troupe: TROUPE_(ACTOR_UNAVAILABLE|DEADLINE_EXCEEDED): /);
  },
);

function runBin(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "bin/troupe.js"), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("cli - the troupe binary: a flag-like argument and an unknown option exit 2 with one line and no stack trace", async (t) => {
  const [negative, json] = await Promise.all([
    runBin(["call", "Inventory", "tea", "restock", "-5"]),
    runBin(["ls", "hosts", "--json"]),
  ]);
  for (const [r, command] of [
    [negative, "call"],
    [json, "ls"],
  ] as const) {
    t.is(r.code, 2, r.stderr);
    t.is(r.stdout, "");
    t.is(r.stderr, `${r.stderr.split("\n")[0]}\n${usageOf(command)}\n`);
    t.notRegex(r.stderr, /ERR_PARSE_ARGS|^\s+at /m);
  }
  t.regex(negative.stderr, /^troupe call: unknown option -5 /);
});

test("cli - a wait that outlasts its first second gets a progress line; one that ends first gets none", async (t) => {
  const { io, err } = capture();
  t.is(await whileWaiting(io, "draining", Promise.resolve(7)), 7);
  t.deepEqual(err, []);
  let finish: (v: string) => void = () => undefined;
  const work = new Promise<string>((r) => {
    finish = r;
  });
  const waited = whileWaiting(io, "draining", work, { afterMs: 5, everyMs: 5 });
  // Finish the work only once the progress line is there: no timing is assumed.
  while (err.length < 2) await new Promise((r) => setImmediate(r));
  finish("done");
  t.is(await waited, "done");
  const lines = err.length;
  t.regex(err[0] ?? "", /^troupe: draining\.\.\. \(\d+s\)$/);
  await new Promise((r) => setTimeout(r, 4 * 5)); // a window of four periods: the timer was cleared
  t.is(err.length, lines, "no line after the work ended");
});
