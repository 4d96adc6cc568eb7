import test from "ava";
import { consoleLogger } from "troupe";
import { FenceStore } from "../../runtime/placement/fences.js";
import { startServer } from "../helpers/nats.js";
import { client, uniquePrefix, waitFor } from "./helpers.js";

test("fences - a host's fence view holds the types it serves and receives no other type's changes", async (t) => {
  const server = await startServer(t);
  const mesh = await client(t, server.url, uniquePrefix());
  const bucket = await mesh.transport.keyValue(mesh.subjects.shardsBucket(), {});
  const logger = consoleLogger("silent");
  const key = (type: string, shard: number) => mesh.subjects.shardFenceKey(type, shard);
  const holder = { hostId: "h1", hostName: "one" };
  // A writer that watches nothing, and a host serving Cart only.
  const writer = new FenceStore(bucket, logger, 100, []);
  const cartHost = new FenceStore(bucket, logger, 100, [mesh.subjects.shardFenceFilter("Cart")]);
  const seen: string[] = [];
  cartHost.onChange((k) => seen.push(k));
  cartHost.start();
  t.teardown(() => cartHost.stop());

  // Stream order: Order's fences are written before Cart's last one, so a watch of the whole
  // bucket would have delivered them by the time it delivers that one.
  t.not(await writer.acquire(key("Cart", 0), holder, 0), null);
  for (let shard = 0; shard < 8; shard++) t.not(await writer.acquire(key("Order", shard), holder, 0), null);
  const rev = await writer.acquire(key("Cart", 1), holder, 0);
  t.not(rev, null);
  await waitFor("Cart's fences seen", () => cartHost.get(key("Cart", 1))?.revision === rev);

  t.deepEqual(seen, [key("Cart", 0), key("Cart", 1)]);
  t.is(cartHost.get(key("Order", 0)), undefined);
  t.is(cartHost.get(key("Cart", 0))?.owner?.hostId, "h1");
});
