/**
 * The key-value bucket behind actor state, leases and membership, against a real nats-server:
 * reads (direct gets through the transport's multiplexed inbox) and compare-and-set writes see
 * the same entries and revisions nats.js does, deleted keys read as absent, and a lost
 * compare-and-set is a RevisionMismatchError.
 */
import { Kvm } from "@nats-io/kv";
import test from "ava";
import { consoleLogger } from "troupe";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import { RevisionMismatchError } from "../../runtime/transport/transport.js";
import { startServer } from "../helpers/nats.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function setup(t: import("ava").ExecutionContext) {
  const server = await startServer(t);
  const transport = await NatsTransport.connect({ servers: server.url }, consoleLogger("silent"));
  t.teardown(() => transport.close());
  return { transport, bucket: await transport.keyValue("kvtest") };
}

test("kv - get, compare-and-set and delete agree on entries and revisions", async (t) => {
  const { transport, bucket } = await setup(t);
  t.is(await bucket.get("a.b"), null, "a key never written");
  const r1 = await bucket.compareAndSet("a.b", enc.encode("one"), 0);
  const got = await bucket.get("a.b");
  t.is(got?.revision, r1);
  t.is(dec.decode(got?.value), "one");
  const r2 = await bucket.compareAndSet("a.b", enc.encode("two"), r1);
  t.true(r2 > r1);
  const stale = await t.throwsAsync(bucket.compareAndSet("a.b", enc.encode("three"), r1));
  t.true(stale instanceof RevisionMismatchError, `got ${stale?.name}`);
  t.is(dec.decode((await bucket.get("a.b"))?.value), "two", "the lost write changed nothing");
  // What nats.js reads back is the same entry.
  const kv = await new Kvm(transport.nc).open("kvtest");
  const viaNatsJs = await kv.get("a.b");
  t.is(viaNatsJs?.revision, r2);
  t.is(dec.decode(viaNatsJs?.value), "two");
  // The server's write time comes along, to the millisecond nats.js reads.
  t.is((await bucket.get("a.b"))?.createdMs, viaNatsJs?.created.getTime());
  // Another key with a common prefix is its own entry.
  t.is(await bucket.get("a"), null);
  await bucket.delete("a.b");
  t.is(await bucket.get("a.b"), null, "a deleted key reads as absent");
  // Created again after the delete marker.
  const r3 = await bucket.compareAndSet("a.b", enc.encode("again"), 0);
  t.is((await bucket.get("a.b"))?.revision, r3);
});

test("kv - keys that are not valid NATS subject tokens are refused before anything is sent", async (t) => {
  const { bucket } = await setup(t);
  for (const bad of ["a b", ".a", "a.", "a*", ""]) {
    await t.throwsAsync(bucket.get(bad), { name: "ConfigurationError" }, JSON.stringify(bad));
  }
  const r = await bucket.compareAndSet("k", enc.encode("x"), 0);
  await t.throwsAsync(bucket.compareAndSet("k k", enc.encode("y"), r), { name: "ConfigurationError" });
});

test("kv - opening a bucket with another TTL than it was created with is a ConfigurationError", async (t) => {
  const { transport } = await setup(t);
  await transport.keyValue("kvttl", { ttlMs: 60_000 });
  const same = await transport.keyValue("kvttl", { ttlMs: 60_000 });
  t.truthy(same, "the same TTL opens it");
  const err = await t.throwsAsync(transport.keyValue("kvttl", { ttlMs: 30_000 }), {
    name: "ConfigurationError",
  });
  t.deepEqual((err as { details?: unknown } | undefined)?.details, {
    bucket: "kvttl",
    actualTtlMs: 60_000,
    wantedTtlMs: 30_000,
  });
});
