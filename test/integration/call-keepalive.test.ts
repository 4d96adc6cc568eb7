/**
 * Keepalives of long calls: a host tells the caller of every call it is still working on that it
 * is alive, and a caller gives up on a silent host (`HostUnresponsiveError`) long before a long
 * deadline. Transport rules against a raw responder in a worker thread; the host side with real
 * Troupe hosts. (Killed and paused host processes: test/placement/faults.test.ts.)
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import test from "ava";
import { Actor, consoleLogger, DeadlineExceededError, HostUnresponsiveError } from "troupe";
import { decode } from "../../runtime/messaging/codec.js";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import type { RequestOutcome } from "../../runtime/transport/transport.js";
import { startMesh } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";

const RESPONDER = fileURLToPath(new URL("./fixtures/keepalive-responder.mjs", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function transportWithResponder(t: import("ava").ExecutionContext): Promise<NatsTransport> {
  const server = await startServer(t);
  const worker = new Worker(RESPONDER, { workerData: { servers: server.url } });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  const transport = await NatsTransport.connect({ servers: server.url }, consoleLogger("silent"));
  t.teardown(async () => {
    await transport.close();
    worker.postMessage("close");
    await new Promise((r) => worker.once("message", r));
    await worker.terminate();
  });
  return transport;
}

function replyValue(outcome: RequestOutcome): unknown {
  if (outcome.kind !== "reply") throw new Error(`expected a reply, got ${outcome.kind}`);
  return decode(outcome.data);
}

const nothing = new Uint8Array([0xc0]);

test("call keepalive - a silent responder fails the request with HostUnresponsiveError, not at its deadline", async (t) => {
  const transport = await transportWithResponder(t);
  const err = await t.throwsAsync(transport.request("ka.silent", nothing, 100_000, undefined, 400), {
    instanceOf: HostUnresponsiveError,
  });
  t.is(err?.code, "TROUPE_HOST_UNRESPONSIVE");
  t.true(err?.retryable);
  t.is(err?.details.subject, "ka.silent");
  t.is(err?.details.timeoutMs, 100_000);
});

test("call keepalive - keepalives keep a request alive past the silence limit until its reply", async (t) => {
  const transport = await transportWithResponder(t);
  // Three silence limits long, a keepalive every 100 ms.
  const outcome = await transport.request("ka.beat.100.3000", nothing, 100_000, undefined, 1000);
  t.deepEqual(replyValue(outcome), [1, 0, "done"]);
});

test("call keepalive - a keepalive announcing a longer interval stretches the limit to three of them", async (t) => {
  const transport = await transportWithResponder(t);
  // One keepalive announcing 2 s, then the reply 2.5 s later: silent for 2.5× the caller's 1 s.
  const outcome = await transport.request("ka.announce.2000.2500", nothing, 100_000, undefined, 1000);
  t.deepEqual(replyValue(outcome), [1, 0, "done"]);
});

// Serial: ava runs serial tests before the concurrent ones, so the second this test spins
// blocks no other test's host (a host in this process sends no keepalive while it spins).
test.serial(
  "call keepalive - a caller whose own event loop was blocked reads waiting keepalives before judging",
  async (t) => {
    const transport = await transportWithResponder(t);
    const pending = transport.request("ka.beat.50.1800", nothing, 100_000, undefined, 400);
    await sleep(100);
    // The responder (another thread) keeps sending; its keepalives wait in the socket while this
    // thread spins. Spinning in the check phase is the worst case: the event loop runs the overdue
    // timers next, before it polls the socket again.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const until = performance.now() + 1000;
        while (performance.now() < until) {
          // busy: no timers, no I/O
        }
        resolve();
      }),
    );
    t.deepEqual(replyValue(await pending), [1, 0, "done"]);
  },
);

test("call keepalive - without a silence limit a silent responder still ends at the deadline", async (t) => {
  const transport = await transportWithResponder(t);
  await t.throwsAsync(transport.request("ka.silent", nothing, 300), { instanceOf: DeadlineExceededError });
});

class Slow extends Actor {
  async nap(ms: number): Promise<string> {
    await sleep(ms);
    return `slept ${ms}`;
  }
}

test("call keepalive - a Troupe host keeps its running and queued calls alive past the caller's limit", async (t) => {
  // The limit is 20 keepalive intervals: the host shares this process with other tests, and a
  // busy moment of it must not look like a dead host.
  const fx = await startMesh(t, { keepaliveTimeoutMs: 2000 });
  // The host on its own connection, so every call crosses NATS.
  const hostMesh = await fx.connectAnother();
  const host = await hostMesh.host([Slow], { keepaliveEveryMs: 100, jobs: false });
  const ref = fx.mesh.ref(Slow, "s1", { timeoutMs: 60_000 });
  // The second call waits in the actor's mailbox while the first runs: both need keepalives.
  const replies = await Promise.all([ref.nap(3000), ref.nap(3000)]);
  t.deepEqual(replies, ["slept 3000", "slept 3000"]);
  t.is(host.keepalives.size, 0, "answered calls get no more keepalives");
});

test("call keepalive - without keepalives from its host a long call is given up", async (t) => {
  const fx = await startMesh(t, { keepaliveTimeoutMs: 600 });
  const hostMesh = await fx.connectAnother();
  // A host that says nothing within the caller's limit: what a dead host looks like to the caller.
  await hostMesh.host([Slow], { keepaliveEveryMs: 60_000, jobs: false });
  const ref = fx.mesh.ref(Slow, "s2", { timeoutMs: 60_000 });
  await t.throwsAsync(ref.nap(3000), { instanceOf: HostUnresponsiveError });
});

test("call keepalive - option values are checked", async (t) => {
  const fx = await startMesh(t);
  await t.throwsAsync(fx.connectAnother({ keepaliveTimeoutMs: 0 }), { message: /keepaliveTimeoutMs/ });
  await t.throwsAsync(fx.mesh.host([Slow], { keepaliveEveryMs: -1 }), { message: /keepaliveEveryMs/ });
});
