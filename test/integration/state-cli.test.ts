/** `troupe state get|put|rm` against a real nats-server: inspecting and repairing stored state. */
import test from "ava";
import { Actor, type Mesh, StateNotLoadableError } from "troupe";
import { main } from "../../runtime/cli/main.js";
import { fromJson, STATE_USAGE, state, toJson } from "../../runtime/cli/state.js";
import { kvKeyForId } from "../../runtime/messaging/subjects.js";
import { startMesh } from "../helpers/mesh.js";

/** Deadline of every call here: a busy machine must not turn a slow turn into a failure (no timing is asserted). */
const BUSY_MACHINE_TIMEOUT_MS = 60_000;
/**
 * Calls retry what is retryable (a state write whose acknowledgement took longer than its timeout
 * on a loaded machine, StateStoreError): every call here is idempotent.
 */
const BUSY = { retry: { maxAttempts: 4 } };

class Wallet extends Actor<{ owner: string; cents: bigint; tags: Record<string, boolean> }> {
  static initialState = () => ({ owner: "", cents: 0n, tags: {} as Record<string, boolean> });
  async open(owner: string): Promise<void> {
    this.state.owner = owner;
    this.state.cents = 10n;
    const key: string = "constructor"; // a key from user input
    this.state.tags[key] = true;
  }
  async read(): Promise<{ owner: string; cents: string }> {
    return { owner: this.state.owner, cents: String(this.state.cents) };
  }
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

async function run(mesh: Mesh, ...argv: string[]) {
  const c = capture();
  const code = await state(argv, mesh, c.io);
  return { code, out: c.out.join("\n"), err: c.err.join("\n") };
}

async function corrupt(mesh: Mesh, id: string): Promise<void> {
  const bucket = await mesh.transport.keyValue(mesh.subjects.stateBucket("Wallet"));
  await bucket.put(kvKeyForId(id), Uint8Array.of(0x82, 0xa1, 0x61, 0x01)); // a map of 2 with 1 entry
}

test("state cli - get shows the stored value as JSON, BigInts and odd keys included", async (t) => {
  const { mesh } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Wallet]);
  await mesh.ref(Wallet, "w1", BUSY).open("ada");
  const json = await run(mesh, "get", "Wallet", "w1", "-o", "json");
  t.is(json.code, 0, json.err);
  const shown = JSON.parse(json.out) as { revision: number; value: unknown };
  t.true(shown.revision > 0);
  t.deepEqual(shown.value, { owner: "ada", cents: { $bigint: "10" }, tags: { constructor: true } });
  const text = await run(mesh, "get", "Wallet", "w1");
  t.is(text.code, 0);
  t.regex(text.out, /^Wallet\/w1 {2}revision \d+ {2}\d+ bytes\n\{/);
});

test("state cli - an unloadable state is shown with its decode error and a hex dump, then repaired with put", async (t) => {
  const { mesh } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Wallet]);
  await corrupt(mesh, "w2");
  await t.throwsAsync(mesh.ref(Wallet, "w2", BUSY).read(), { instanceOf: StateNotLoadableError });

  const json = await run(mesh, "get", "Wallet", "w2", "-o", "json");
  t.is(json.code, 1);
  const report = JSON.parse(json.out) as {
    bytes: number;
    error: { code: string; reason: string };
    hex: string;
  };
  t.is(report.bytes, 4);
  t.is(report.error.code, "TROUPE_MALFORMED_MESSAGE");
  t.is(report.error.reason, "length-exceeds-input");
  t.regex(report.hex, /^00000000 {2}82 a1 61 01/);
  const text = await run(mesh, "get", "Wallet", "w2");
  t.regex(text.out, /CANNOT BE DECODED/);
  t.regex(text.out, /troupe state put Wallet w2/);

  const put = await run(mesh, "put", "Wallet", "w2", '{"owner":"bob","cents":{"$bigint":"42"},"tags":{}}');
  t.is(put.code, 0, put.err);
  t.regex(put.out, /^stored Wallet\/w2 at revision \d+/);
  t.deepEqual(await mesh.ref(Wallet, "w2", BUSY).read(), { owner: "bob", cents: "42" });
});

test("state cli - put refuses a value that would not load, and a stale --revision", async (t) => {
  const { mesh } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Wallet]);
  await mesh.ref(Wallet, "w3", BUSY).open("cy");
  const proto = await run(mesh, "put", "Wallet", "w3", '{"__proto__":{"polluted":true}}');
  t.is(proto.code, 1);
  t.regex(proto.err, /TROUPE_STATE_NOT_STORABLE/);
  t.is(({} as Record<string, unknown>).polluted, undefined);
  await t.throwsAsync(run(mesh, "put", "Wallet", "w3", '{"owner":"x"}', "--revision", "999"));
  t.deepEqual(await mesh.ref(Wallet, "w3", BUSY).read(), { owner: "cy", cents: "10" });
});

test("state cli - rm deletes the state and the actor starts again from its initial state", async (t) => {
  const { mesh } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  await mesh.host([Wallet]);
  await corrupt(mesh, "w4");
  const rm = await run(mesh, "rm", "Wallet", "w4", "-o", "json");
  t.is(rm.code, 0, rm.err);
  t.is((JSON.parse(rm.out) as { deletedRevision: number }).deletedRevision > 0, true);
  t.deepEqual(await mesh.ref(Wallet, "w4", BUSY).read(), { owner: "", cents: "0" });
  const missing = await run(mesh, "rm", "Wallet", "nobody");
  t.is(missing.code, 1);
  t.regex(missing.err, /no state stored for Wallet\/nobody/);
  t.is((await run(mesh, "get", "Wallet", "nobody")).code, 1);
  const noType = await run(mesh, "get", "Nobody", "x");
  t.is(noType.code, 1);
  t.regex(noType.err, /no state bucket for actor type Nobody/);
});

test("state cli - bad arguments give one line of what is wrong, the usage, and exit code 2", async (t) => {
  const { mesh } = await startMesh(t, { defaultTimeoutMs: BUSY_MACHINE_TIMEOUT_MS });
  const cases: [string[], RegExp][] = [
    [[], /name a command/],
    [["show", "Wallet", "w"], /unknown command "show"/],
    [["get", "Wallet"], /get needs <Type> and <id>/],
    [["get", "Wal.let", "w"], /actor type name "Wal.let"/],
    [["get", "Wallet", "w", "-o", "yaml"], /-o takes "json"/],
    [["get", "Wallet", "w", "--bogus"], /--bogus/],
    [["put", "Wallet", "w"], /put takes <Type> <id> <json>/],
    [["put", "Wallet", "w", "{nope"], /<json> is not a valid state/],
    [["rm", "Wallet", "w", "--revision", "two"], /--revision must be a non-negative integer/],
  ];
  for (const [argv, what] of cases) {
    const r = await run(mesh, ...argv);
    t.is(r.code, 2, argv.join(" "));
    const [first, ...rest] = r.err.split("\n");
    t.regex(first ?? "", what, argv.join(" "));
    t.is(rest.join("\n"), STATE_USAGE);
  }
});

test.serial("state cli - troupe state is a command of the troupe CLI", async (t) => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    t.is(await main(["state", "get", "Wallet"]), 2);
  } finally {
    process.stderr.write = write;
  }
  t.regex(written.join(""), /troupe state: get needs <Type> and <id>/);
});

test("state cli - values JSON lacks survive get then put as tagged objects", (t) => {
  const value = {
    big: 2n ** 63n,
    bytes: Buffer.from([0, 1, 255]),
    at: new Date("2026-01-02T03:04:05.678Z"),
    nothing: undefined,
    odd: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    constructor: { prototype: 1 },
  };
  const json = JSON.parse(JSON.stringify(toJson(value)));
  t.deepEqual(fromJson(json), value);
});
