/**
 * The client API refuses what it cannot honour at the caller, with a typed error (issue 12, item 5):
 * bad type names, ids and options give ConfigurationError (not a nats.js error, not a host's
 * MalformedMessageError later), and job arguments a runner would refuse are refused at enqueue with
 * the error a host gives a call carrying them.
 */
import test from "ava";
import { Actor, ConfigurationError, connect, MalformedMessageError } from "troupe";
import { MAX_TIMEOUT_MS } from "../../runtime/client-options.js";
import { startMesh } from "../helpers/mesh.js";

class Echo extends Actor {
  static options = { shards: 4 };
  async echo(value: unknown): Promise<unknown> {
    return value;
  }
}

class BadlyNamed extends Actor {
  static typeName = "bad name";
  async run(): Promise<void> {}
}

class Dotted extends Actor {
  static typeName = "a.b";
  async run(): Promise<void> {}
}

/** Timeouts no deadline can be made of. */
const badTimeouts: unknown[] = [Number.POSITIVE_INFINITY, Number.NaN, -1, 0, "100", null, MAX_TIMEOUT_MS + 1];

test("client options - mesh.enqueue with an invalid type name is a ConfigurationError", async (t) => {
  const { mesh } = await startMesh(t);
  for (const type of [BadlyNamed, Dotted]) {
    t.throws(() => mesh.enqueue(type, "x"), { instanceOf: ConfigurationError }, type.typeName);
  }
  // By name (CLI, gateway) too.
  const { enqueueByName } = await import("../../runtime/jobs/enqueue.js");
  for (const name of ["bad name", "a.b", "*", ">", ""]) {
    await t.throwsAsync(enqueueByName(mesh, name, "x", "run", []), { instanceOf: ConfigurationError }, name);
  }
});

test("client options - a job whose arguments hold a forbidden key is refused at enqueue, as a call carrying them is", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Echo], { reminders: false, subscriptions: false });
  const poisoned = JSON.parse('{"constructor": {"prototype": {"polluted": true}}}') as unknown;
  const call = await t.throwsAsync(mesh.ref(Echo, "e").echo(poisoned));
  t.true(call instanceof MalformedMessageError, `a call gets ${call?.name}`);
  const job = await t.throwsAsync(mesh.enqueue(Echo, "e").echo(poisoned));
  t.true(job instanceof MalformedMessageError, `an enqueue gets ${job?.name}`);
  t.is(job?.constructor, call?.constructor, "the same class as a call");
  // Other things a runner would refuse: a method name longer than any runner accepts, and nesting
  // deeper than the codec allows.
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  await t.throwsAsync(mesh.enqueue(Echo, "e").echo(deep), { instanceOf: MalformedMessageError });
  const longName = "m".repeat(300);
  const enqueueRef = mesh.enqueue(Echo, "e") as unknown as Record<string, () => Promise<unknown>>;
  await t.throwsAsync((enqueueRef[longName] as () => Promise<unknown>)(), {
    instanceOf: MalformedMessageError,
  });
  // What is fine still goes through; waiting for its result takes a usable timeout too.
  const ok = await mesh.enqueue(Echo, "e").echo({ fine: true });
  for (const timeoutMs of [Number.NaN, -1, "60s"]) {
    await t.throwsAsync(
      ok.result({ timeoutMs: timeoutMs as number }),
      { instanceOf: ConfigurationError },
      String(timeoutMs),
    );
  }
  t.deepEqual(await ok.result({ timeoutMs: 30_000 }), { fine: true });
});

test("client options - timeoutMs that is not a usable deadline is a ConfigurationError at the caller, for calls, tells and enqueues", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Echo], { jobs: false, reminders: false, subscriptions: false });
  for (const timeoutMs of badTimeouts) {
    const what = String(timeoutMs);
    const opts = { timeoutMs } as { timeoutMs: number };
    t.throws(() => mesh.ref(Echo, "e", opts), { instanceOf: ConfigurationError }, `ref ${what}`);
    const ref = mesh.ref(Echo, "e").with(opts);
    await t.throwsAsync(ref.echo(1), { instanceOf: ConfigurationError }, `call ${what}`);
    t.throws(() => ref.tell.echo(1), { instanceOf: ConfigurationError }, `tell ${what}`);
    t.throws(() => mesh.enqueue(Echo, "e", opts), { instanceOf: ConfigurationError }, `enqueue ${what}`);
  }
  // A usable one still works.
  t.is(await mesh.ref(Echo, "e").with({ timeoutMs: 30_000 }).echo("ok"), "ok");
});

test("client options - bad actor ids are refused at the caller, for calls, tells and enqueues", async (t) => {
  const { mesh } = await startMesh(t);
  for (const id of ["", "x".repeat(1025), 42, undefined]) {
    const what = typeof id === "string" ? `${id.length} characters` : String(id);
    t.throws(() => mesh.ref(Echo, id as string), { instanceOf: ConfigurationError }, `ref ${what}`);
    t.throws(() => mesh.enqueue(Echo, id as string), { instanceOf: ConfigurationError }, `enqueue ${what}`);
  }
});

test("client options - other call, retry and enqueue options of the wrong kind are ConfigurationErrors", async (t) => {
  const { mesh } = await startMesh(t);
  const refOptions: unknown[] = [
    { retry: { maxAttempts: 0 } },
    { retry: { maxAttempts: 1.5 } },
    { retry: { maxElapsedMs: -1 } },
    { retry: { initialDelayMs: Number.POSITIVE_INFINITY } },
    { retry: "yes" },
  ];
  for (const o of refOptions) {
    t.throws(() => mesh.ref(Echo, "e", o as never), { instanceOf: ConfigurationError }, JSON.stringify(o));
    await t.throwsAsync(
      mesh
        .ref(Echo, "e")
        .with(o as never)
        .echo(1),
      { instanceOf: ConfigurationError },
      `with ${JSON.stringify(o)}`,
    );
  }
  const enqueueOptions: unknown[] = [
    { key: 42 },
    { key: "" },
    { maxAttempts: 0 },
    { keepResult: "no" },
    { queue: { maxJobs: -1 } },
    { queue: { replicas: 7 } },
    { queue: { duplicateWindowMs: Number.POSITIVE_INFINITY } },
  ];
  for (const o of enqueueOptions) {
    t.throws(
      () => mesh.enqueue(Echo, "e", o as never),
      { instanceOf: ConfigurationError },
      JSON.stringify(o),
    );
  }
});

test("client options - connect() refuses options it cannot honour before connecting", async (t) => {
  // No server is needed: nothing is attempted.
  const bad: unknown[] = [
    { defaultTimeoutMs: Number.POSITIVE_INFINITY },
    { defaultTimeoutMs: -5 },
    { keepaliveTimeoutMs: 0 },
    { keepaliveTimeoutMs: "15s" },
    { replicas: 0 },
    { replicas: 2.5 },
    { replicas: 9 },
    { prefix: 5 },
    { prefix: "a.b" },
    { localDelivery: "yes" },
    { logger: console.log },
    { servers: 4222 },
    { maxReconnectAttempts: -2 },
    { reconnectTimeWaitMs: Number.NaN },
    { jetStreamApiTimeoutMs: 0 },
    { tls: "on" },
  ];
  for (const o of bad) {
    await t.throwsAsync(
      connect({ servers: "nats://127.0.0.1:1", ...(o as object) }),
      { instanceOf: ConfigurationError },
      JSON.stringify(o) ?? String(o),
    );
  }
});
