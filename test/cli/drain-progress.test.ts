/**
 * Drain progress through the real command line: `troupe host` stopped with Ctrl-C while a turn
 * is still running keeps printing a progress line on stderr (stderr is not a terminal here, so
 * plain lines) until the turn ends, answers the call, and exits 0.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { connect } from "troupe";
import { startCli } from "../helpers/cli-process.js";
import { startServer } from "../helpers/nats.js";

const entry = fileURLToPath(new URL("./fixtures/entry-slow.ts", import.meta.url));
const silent = { debug() {}, info() {}, warn() {}, error() {} };

test("cli - troupe host drained during a long turn prints a progress line until the turn ends, then exits 0", async (t) => {
  t.timeout(300_000);
  const server = await startServer(t);
  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-drain-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const release = path.join(dir, "release");
  const prefix = `drain${process.pid}`;
  const host = startCli(["host", entry, "--prefix", prefix], {
    env: { NATS_URL: server.url, TROUPE_LOG_LEVEL: "info", SLOW_TURN_RELEASE: release },
  });
  t.teardown(() => host.kill());
  await host.waitFor('"msg":"host ready"', 120_000);

  const mesh = await connect({ servers: server.url, prefix, logger: silent });
  t.teardown(() => mesh.close());
  const result = mesh.callByName("Slow", "s1", "work", [], { timeoutMs: 240_000 });
  result.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
  await host.waitFor("slow turn started", 60_000);

  host.signal("SIGINT");
  // The drain waits for the turn: past its first second it says so (progress.ts).
  await host.waitFor(/^troupe: draining\.\.\. \(\d+s\)$/m, 60_000);
  t.notRegex(host.output(), /"msg":"host drained"/, "the drain is still waiting for the turn");
  await writeFile(release, "");
  t.is(await result, "finished");
  const exit = await host.exited(60_000);
  t.deepEqual(exit, { code: 0, signal: null }, host.output());
  t.regex(host.output(), /"msg":"host drained"/);
  t.notRegex(host.output(), /Uncaught|^\s+at /m);
});
