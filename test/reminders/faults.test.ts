/**
 * Durable reminders under a fault: the host process that set a periodic reminder is killed with
 * SIGKILL; the reminder keeps firing on the surviving host. Waits are bounds, not speed assertions.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { connect, consoleLogger } from "troupe";
import { onLines } from "../helpers/lines.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";
import { Beacon, seen } from "./fixtures/actors.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(root, "test/reminders/fixtures/host.ts");
const REMINDERS = { ackWaitMs: 2000 };

test("reminders - a periodic reminder set by a host killed with SIGKILL fires on the surviving host", async (t) => {
  const server = await startServer(t);
  const prefix = `rf${process.pid}`;
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=troupe-source", "--import", "tsx", FIXTURE],
    {
      cwd: root,
      env: {
        ...process.env,
        NATS_URL: server.url,
        TROUPE_PREFIX: prefix,
        HOST_NAME: "child",
        REMINDERS: JSON.stringify(REMINDERS),
        BEACON: "b1:beat:400",
      },
      stdio: ["ignore", "pipe", "pipe"],
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
  let ready = false;
  let childFirings = 0;
  onLines(child.stdout, (line) => {
    if (line.includes('"ready"')) ready = true;
    if (line.includes('"fired"')) childFirings++;
  });
  onLines(child.stderr, (line) => {
    if (process.env.TROUPE_TEST_ECHO === "1") process.stderr.write(`[child] ${line}\n`);
  });
  await eventually(() => ready || !alive, 30_000, "the child host (which sets the reminder) to be ready");
  t.true(alive, "the child host started");
  // The child alone hosts Beacon until it has fired the reminder it set.
  await eventually(() => childFirings >= 1, 30_000, "a firing in the child");

  const mesh = await connect({ servers: server.url, prefix, logger: consoleLogger("silent") });
  t.teardown(() => mesh.close());
  await mesh.host([Beacon], { jobs: false, subscriptions: false, reminders: REMINDERS });

  child.kill("SIGKILL");
  await exited;
  const atKill = seen.of("b1").length;
  await eventually(
    () => seen.of("b1").length >= atKill + 3,
    30_000,
    "three firings on the survivor after the kill",
  );
  const after = seen.of("b1").slice(atKill);
  t.true(after.every((f) => f.host === "test" && f.name === "beat"));
  t.true(childFirings >= 1);
});
