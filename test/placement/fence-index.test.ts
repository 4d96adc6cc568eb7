/**
 * A fence change is handled for the shard that changed, not by a pass over every shard of the type
 * (at start every host of a type receives every other host's fence writes: a pass over all shards
 * per change cost hosts × shards per host). The pieces are the real ones (Membership, FenceStore,
 * ShardOwnership) against a real nats-server, wired as runtime/host/host.ts wires them; the retry
 * tick is set far out so that only fence changes can make this host act.
 */
import test from "ava";
import { consoleLogger } from "troupe";
import { type ActorType, actorTypeOf } from "../../runtime/actor/index.js";
import { Actor } from "../../runtime/index.js";
import { Assigner } from "../../runtime/placement/assigner.js";
import {
  type Fence,
  FenceStore,
  type HostRecord,
  Membership,
  resolvePlacementOptions,
  ShardOwnership,
} from "../../runtime/placement/index.js";
import { startServer } from "../helpers/nats.js";
import { client, uniquePrefix, waitFor } from "./helpers.js";

/** A fence view that counts how many fences its readers looked up. */
class CountingFences extends FenceStore {
  reads = 0;
  override get(key: string): Fence | undefined {
    this.reads++;
    return super.get(key);
  }
  /** The test's own look-ups, not counted. */
  peek(key: string): Fence | undefined {
    return super.get(key);
  }
}

const SHARDS = 512;

test("fence index - a fence change makes the host look at that shard only, a released fence it wants is taken, and a drain still hands every shard off", async (t) => {
  const server = await startServer(t);
  const mesh = await client(t, server.url, uniquePrefix());
  const { transport, subjects } = mesh;
  const logger = consoleLogger("silent");
  // The retry tick (renewEveryMs) far beyond the test: nothing but fence changes runs a reconcile
  // once the first pass is done.
  const options = resolvePlacementOptions({
    heartbeatEveryMs: 500,
    hostTtlMs: 2500,
    safetyMarginMs: 900,
    renewEveryMs: 3_600_000,
  });
  const [hosts, members, shardsBucket] = await Promise.all([
    transport.keyValue(subjects.hostsBucket(), { ttlMs: options.hostTtlMs }),
    transport.keyValue(subjects.membersBucket()),
    transport.keyValue(subjects.shardsBucket()),
  ]);
  const type: ActorType = actorTypeOf(
    class extends Actor {
      static typeName = "Indexed";
      static options = { shards: SHARDS };
    },
  );
  const record = (id: string): HostRecord => ({
    id,
    name: id,
    types: [type.name],
    status: "serving",
    startedAtMs: Date.now(),
    activations: {},
    heartbeatEveryMs: options.heartbeatEveryMs,
  });
  // Two hosts in the roster; only "h-one" runs the ownership loop, "h-two" is written by hand.
  const one = new Membership({ hosts, members }, record("h-one"), options, logger);
  const two = new Membership({ hosts, members }, record("h-two"), options, logger);
  t.teardown(() => {
    one.stop();
    two.stop();
  });
  await Promise.all([one.start(), two.start()]);
  await waitFor("both hosts in the view", () => one.live().length === 2);
  const want = new Assigner(type.name, SHARDS).assign(["h-one", "h-two"]);
  const ofOne = want.indexOf("h-one");
  const ofTwo = want.indexOf("h-two");
  t.true(ofOne >= 0 && ofTwo >= 0);

  const key = (shard: number) => subjects.shardFenceKey(type.name, shard);
  const asTwo = { hostId: "h-two", hostName: "h-two" };
  const writer = new FenceStore(shardsBucket, logger, 100, []);
  // h-two holds a shard assigned to h-one: h-one must wait until it is released.
  const held = await writer.acquire(key(ofOne), asTwo, 0);
  t.not(held, null);

  const fences = new CountingFences(shardsBucket, logger, 100, [subjects.shardFenceFilter(type.name)]);
  fences.start();
  t.teardown(() => fences.stop());
  await waitFor("h-two's fence seen", () => fences.peek(key(ofOne))?.revision === held);
  const served = new Set<number>();
  const deactivated = new Set<number>();
  const ownership = new ShardOwnership(
    type,
    one,
    fences,
    async () => false,
    subjects,
    options,
    {
      subscribe: (shard) => {
        served.add(shard);
        return transport.subscribe(subjects.rpc(type.name, shard), {}, () => undefined);
      },
      deactivate: async (shard) => {
        deactivated.add(shard);
      },
      abandon: () => 0,
    },
    logger,
  );
  fences.onChange((k) => {
    const parsed = subjects.parseLeaseKey(k);
    if (parsed) ownership.fenceChanged(parsed.shard);
  });
  t.teardown(() => ownership.stop());
  await ownership.start();
  const mine = want.filter((h) => h === "h-one").length;
  await waitFor("h-one's free shards taken", () => served.size === mine - 1);
  t.false(served.has(ofOne), "a shard whose fence names a host in the view is not taken");

  // A change of a fence assigned elsewhere: one look-up, not one per shard not held here (a
  // shard held here is skipped before its fence is read).
  const before = fences.reads;
  const rev = await writer.acquire(key(ofTwo), asTwo, 0);
  await waitFor("the change seen", () => fences.peek(key(ofTwo))?.revision === rev);
  await waitFor("the changed shard looked at", () => fences.reads > before);

  // The release of the shard h-one waits for: taken through the fence change alone.
  await writer.release(key(ofOne), asTwo, held as number);
  await waitFor("the released shard taken", () => served.has(ofOne));
  t.is(ownership.held().length, mine);
  t.is(fences.reads - before, 2, "one fence read per change, not a pass over every shard");

  // A drain after passes over changed fences only still hands every shard off (a pass over every
  // shard decides hand-offs): each deactivated, each fence released.
  await ownership.drain();
  t.is(deactivated.size, mine);
  for (const shard of deactivated) {
    await waitFor(`shard ${shard}'s fence released`, () => {
      const fence = fences.peek(key(shard));
      return fence !== undefined && fence.owner === undefined;
    });
  }
});
