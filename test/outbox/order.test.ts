/**
 * Per-destination order through the outbox when a destination cannot take its messages: tells to an
 * actor whose shard has no host stay in the outbox, in order, until a host serves it (each is
 * handled once, in the order sent), and such a destination never holds back the others (lanes).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import { Actor, connect, consoleLogger, type Mesh, subscribe } from "troupe";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";

class Ledger extends Actor<{ seen: number[] }> {
  static typeName = "OutboxLedger";
  static initialState = () => ({ seen: [] as number[] });
  async note(i: number): Promise<void> {
    this.state.seen.push(i);
  }
  async seen(): Promise<number[]> {
    return this.state.seen;
  }
}

const received: number[] = [];
class Listener extends Actor {
  static typeName = "OutboxListener";
  @subscribe("outbox.lanes", { key: () => "one" })
  async on(e: { i: number }): Promise<void> {
    received.push(e.i);
  }
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-outbox-order-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const NO_HOST = "TROUPE_ACTOR_UNAVAILABLE";

test.serial(
  "outbox - tells queued offline whose shard has no host at reconnect arrive once, in order, when a host comes",
  async (t) => {
    t.timeout(120_000);
    const server = await startServer(t);
    const prefix = `obt${process.pid}`;
    // Hosted once so the type is known, then gone: the shard has no host when the tells are forwarded.
    const first = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
    await first.host([Ledger]);
    await first.close();

    const mesh = await connect({
      servers: server.url,
      prefix,
      reconnectTimeWaitMs: 100,
      logger: consoleLogger("silent"),
      outbox: { path: await tempDir(t) },
    });
    t.teardown(() => mesh.close());
    const outbox = mesh.outbox as NonNullable<Mesh["outbox"]>;
    const wentOffline = new Promise<void>((resolve) => outbox.on("offline", resolve));
    await server.stop();
    await wentOffline;

    const COUNT = 400;
    const ledger = mesh.ref(Ledger, "l1", { timeoutMs: 60_000 });
    for (let i = 0; i < COUNT; i++) ledger.tell.note(i);
    t.is(outbox.status().pending, COUNT);

    const cameBack = new Promise<void>((resolve) => outbox.on("online", resolve));
    await server.restart();
    await cameBack;
    // Forwarded and refused (no host serves the shard): the tells stay in the outbox, and say why.
    await eventually(
      () => outbox.status().lastError?.code === NO_HOST || mesh.pendingTellResends > 0,
      30_000,
      "the outbox found no host",
    );
    //X

    const host = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
    t.teardown(() => host.close());
    await host.host([Ledger]);
    await outbox.drained();
    let seen: number[] = [];
    await eventually(
      async () => {
        seen = await host.ref(Ledger, "l1").seen();
        return seen.length >= COUNT;
      },
      60_000,
      "every tell handled",
    );
    t.is(mesh.pendingTellResends, 0, "none left to the mesh's own resends");
    t.deepEqual(
      seen,
      Array.from({ length: COUNT }, (_, i) => i),
    );
  },
);

test.serial("outbox - a destination with no host does not hold back the others (lanes)", async (t) => {
  t.timeout(120_000);
  received.length = 0;
  const server = await startServer(t);
  const prefix = `obl${process.pid}`;
  const first = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  await first.host([Ledger]);
  await first.close();
  const host = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  t.teardown(() => host.close());
  await host.host([Listener]);

  const mesh = await connect({
    servers: server.url,
    prefix,
    reconnectTimeWaitMs: 100,
    logger: consoleLogger("silent"),
    outbox: { path: await tempDir(t) },
  });
  t.teardown(() => mesh.close());
  const outbox = mesh.outbox as NonNullable<Mesh["outbox"]>;
  // Written first, to a shard nobody serves: they wait (for a host or their TTL), in their lane.
  const ledger = mesh.ref(Ledger, "l2", { timeoutMs: 60_000 });
  for (let i = 0; i < 50; i++) ledger.tell.note(i);
  for (let i = 0; i < 50; i++) await mesh.publish("outbox.lanes", { i });
  await eventually(() => received.length >= 50, 60_000, "the events got through");
  t.deepEqual(
    received,
    Array.from({ length: 50 }, (_, i) => i),
  );
  t.is(outbox.status().pending, 50, "the tells still wait for their host");
  t.is(outbox.status().lastError?.code, NO_HOST);
});
