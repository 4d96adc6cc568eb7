import test from "ava";
import { TestMesh } from "troupe/testing";
import { Counter } from "./fixtures.js";

test("test mesh - starts a server, a host and a client, and cleans everything up", async (t) => {
  const tm = await TestMesh.start({ types: [Counter] });
  t.teardown(() => tm.close());
  t.is(await tm.ref(Counter, "a").increment(3), 3);
  t.is(tm.hosts.length, 1);
  const server = tm.server;
  await tm.close();
  t.is(server?.state, "exited");
  await t.notThrowsAsync(tm.close(), "close is idempotent");
});

test("test mesh - a second host joins the same mesh and state follows the actor", async (t) => {
  const tm = await TestMesh.start({ types: [Counter] });
  t.teardown(() => tm.close());
  await tm.ref(Counter, "moving").increment(5);
  const second = await tm.addHost([Counter]);
  await tm.hosts[0]?.host.drain();
  // Only the second host serves now; the actor reactivates there with its saved state.
  t.is(await tm.ref(Counter, "moving").increment(1), 6);
  t.is(second.host.stats().Counter?.activations, 1);
});
