import test from "ava";
import { encode } from "../../runtime/messaging/index.js";
import { provedGone } from "../../runtime/placement/index.js";
import { startServer } from "../helpers/nats.js";
import { client, uniquePrefix } from "./helpers.js";

test("lease proof - many hosts proving one dead host's lease gone at once all succeed at once", async (t) => {
  const server = await startServer(t);
  const mesh = await client(t, server.url, uniquePrefix());
  const hosts = await mesh.transport.keyValue(mesh.subjects.hostsBucket(), { ttlMs: 60_000 });

  // A live lease is never proved gone, however many try.
  await hosts.put("h-alive", encode({ id: "h-alive" }));
  t.deepEqual(await Promise.all(Array.from({ length: 4 }, () => provedGone(hosts, "h-alive"))), [
    false,
    false,
    false,
    false,
  ]);

  // A dead host's new owners (one per shard it held) prove its lease gone concurrently: each
  // compare-and-set that loses to another prover's tombstone is retried on the newer one, so none
  // has to wait for its next retry round.
  for (let round = 0; round < 5; round++) {
    const id = `h-dead-${round}`;
    await hosts.put(id, encode({ id }));
    await hosts.delete(id);
    const proofs = await Promise.all(Array.from({ length: 8 }, () => provedGone(hosts, id)));
    t.deepEqual(proofs, Array(8).fill(true), `round ${round}`);
  }
});
