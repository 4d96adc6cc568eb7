import test from "ava";
import { connect, consoleLogger } from "troupe";
import type { MembershipChange } from "../../runtime/placement/membership.js";
import { startServer } from "../helpers/nats.js";
import { Echo } from "./fixtures/actors.js";
import { FAST, spawnHost, uniquePrefix, waitFor } from "./helpers.js";

test("membership - joins, graceful leaves and deaths are observable as an async iterable", async (t) => {
  const server = await startServer(t);
  const prefix = uniquePrefix();
  const mesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  t.teardown(() => mesh.close());
  const host = await mesh.host([Echo], { name: "observer", placement: FAST });
  const seen: MembershipChange[] = [];
  const reading = (async () => {
    for await (const c of host.membershipChanges()) seen.push(c);
  })();

  const other = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  const graceful = await other.host([Echo], { name: "graceful", placement: FAST });
  await waitFor("joined", () => seen.some((c) => c.kind === "joined" && c.host.name === "graceful"));
  t.deepEqual(
    host
      .members()
      .map((m) => m.name)
      .sort(),
    ["graceful", "observer"],
  );
  await other.close();
  await waitFor("left", () => seen.some((c) => c.kind === "left" && c.hostId === graceful.id));

  const doomed = spawnHost(t, { servers: server.url, prefix, name: "doomed" });
  const doomedId = await doomed.ready;
  await waitFor("joined", () => seen.some((c) => c.kind === "joined" && c.host.id === doomedId));
  doomed.signal("SIGKILL");
  await waitFor("died", () => seen.some((c) => c.kind === "died" && c.hostId === doomedId));
  t.deepEqual(
    host.members().map((m) => m.name),
    ["observer"],
  );

  await mesh.close();
  await reading; // the stream ends when the host leaves
});
