/** Pub-sub under faults: a subscriber host killed with SIGKILL mid-stream loses nothing. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { connect, consoleLogger } from "troupe";
import { publish } from "../../runtime/pubsub/index.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";
import { Ledger, ledger } from "./fixtures/actors.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(root, "test/pubsub/fixtures/host.ts");

function spawnHost(t: ExecutionContext, servers: string, prefix: string, name: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=troupe-source", "--import", "tsx", FIXTURE],
    {
      cwd: root,
      env: { ...process.env, NATS_URL: servers, TROUPE_PREFIX: prefix, HOST_NAME: name },
      stdio: ["ignore", "pipe", process.env.TROUPE_TEST_ECHO === "1" ? "inherit" : "ignore"],
    },
  );
  const exited = new Promise((r) => child.once("exit", r));
  let alive = true;
  void exited.then(() => {
    alive = false;
  });
  t.teardown(async () => {
    if (alive) child.kill("SIGKILL");
    await exited;
  });
  const ready = new Promise<void>((resolve, reject) => {
    let buf = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (c: string) => {
      buf += c;
      if (buf.includes('"ready"')) resolve();
    });
    void exited.then(() => reject(new Error(`${name} exited before it was ready`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited };
}

test.serial("pubsub - a subscriber host killed with SIGKILL mid-stream loses no event", async (t) => {
  const server = await startServer(t);
  const prefix = `pf${process.pid}`;
  const mesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  t.teardown(() => mesh.close());
  const host = await mesh.host([Ledger], { jobs: false, subscriptions: false });
  t.teardown(() => host.drain());
  // The subscription (and its events stream) exists before the first publish: start a host first.
  const a = spawnHost(t, server.url, prefix, "a");
  await a.ready;
  const b = spawnHost(t, server.url, prefix, "b");
  await b.ready;
  const sent = Array.from({ length: 300 }, (_, i) => `e${i}`);
  for (const id of sent) await publish(mesh, "stream.ticks", { id, amount: 1 }, { msgId: id });
  await eventually(
    () => [...ledger.values()].filter((hosts) => hosts.includes("a")).length >= 20,
    60_000,
    "host a handled some events",
  );
  t.true(ledger.size < sent.length, "killed mid-stream");
  a.child.kill("SIGKILL");
  await a.exited;
  await eventually(() => sent.every((id) => ledger.has(id)), 60_000, "every event recorded");
  const dups = [...ledger.values()].filter((h) => h.length > 1).length;
  t.log(`${sent.length} events, each recorded at least once; ${dups} delivered more than once`);
  t.true(sent.every((id) => (ledger.get(id)?.length ?? 0) >= 1));
});
