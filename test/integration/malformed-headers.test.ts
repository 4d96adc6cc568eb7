/**
 * One bad message never deafens a process (issue 12, item 1). A NATS header block with a space or
 * a non-ASCII character in a header name, or a lone LF in a value, made nats.js throw while
 * decoding it inside a subscription callback; that ended nats.js's read loop with the socket still
 * open, and the process heard nothing more for minutes. Each test sends such messages (crafted on
 * a bare socket: nats.js will not build them) to one receive path, then a good message that must
 * be served.
 */
import { connect as natsConnect } from "@nats-io/transport-node";
import test, { type ExecutionContext } from "ava";
import { Actor, MalformedMessageError, type Mesh } from "troupe";
import { deadLetters, enqueue, startJobRunner } from "../../runtime/jobs/index.js";
import { decodeReply, encodeCall } from "../../runtime/messaging/envelope.js";
import { encodeJob } from "../../runtime/messaging/index.js";
import { JobNames } from "../../runtime/messaging/subjects.js";
import { shardOf } from "../../runtime/placement/shard.js";
import { encodeEvent } from "../../runtime/pubsub/event.js";
import { type EventInfo, publish, startSubscribers, subscribe } from "../../runtime/pubsub/index.js";
import { ReminderNames } from "../../runtime/reminders/index.js";
import { encodeJson } from "../../runtime/reminders/store.js";
import type { NatsTransport } from "../../runtime/transport/nats-transport.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { BAD_HEADER_BLOCKS, MALFORMED_HEADER_BLOCKS, publishRaw } from "../helpers/raw-nats.js";
import { Napper, seen } from "../reminders/fixtures/actors.js";

/** Generous: a deaf process never answers, a healthy one answers in milliseconds. */
const PROMPT_MS = 10_000;

class Tally extends Actor<{ n: number }> {
  static options = { shards: 4 };
  static initialState = () => ({ n: 0 });
  async add(k: number): Promise<number> {
    this.state.n += k;
    return this.state.n;
  }
  async get(): Promise<number> {
    return this.state.n;
  }
}

const heard: string[] = [];

class Listener extends Actor {
  @subscribe("hdr.>", { key: (e: { id: string }) => e.id })
  async onEvent(e: { id: string }, _info: EventInfo) {
    heard.push(e.id);
  }
}

const fleeting: string[] = [];

class Fleeting extends Actor {
  @subscribe("hdr.fleeting", { durable: false, key: (e: { id: string }) => e.id })
  async onEvent(e: { id: string }) {
    fleeting.push(e.id);
  }
}

/** A plain nats.js connection collecting the decoded replies sent to `reply.>`. */
async function replyObserver(t: ExecutionContext, url: string) {
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());
  const replies = new Map<string, ReturnType<typeof decodeReply>>();
  nc.subscribe("reply.>", {
    callback: (_err, msg) => {
      replies.set(msg.subject, decodeReply(msg.data));
    },
  });
  await nc.flush();
  const replyTo = async (subject: string) => {
    await eventually(() => replies.has(subject), PROMPT_MS, `a reply on ${subject}`);
    return replies.get(subject);
  };
  return { nc, replies, replyTo };
}

/** Reconnects forced by the reader watchdog of `mesh`'s connection. */
function readerRestarts(mesh: Mesh): number {
  return (mesh.transport as NatsTransport).readerWatchdog.restarts;
}

/** A host on one connection and a client on another, so that every call crosses NATS. */
async function hostAndClient(t: ExecutionContext) {
  const fx = await startMesh(t);
  await fx.mesh.host([Tally], { jobs: false, subscriptions: false });
  const client = await fx.connectAnother();
  return { ...fx, client };
}

function assertRefusal(t: ExecutionContext, reply: ReturnType<typeof decodeReply> | undefined, what: string) {
  if (!reply || reply.ok) {
    t.fail(`${what}: expected a refusal, got ${JSON.stringify(reply)}`);
    return;
  }
  t.true(reply.error instanceof MalformedMessageError, what);
  t.regex(reply.error.message, /header/i, what);
}

test("malformed headers - a call with a bad header block gets MalformedMessageError and the host keeps serving", async (t) => {
  const { url, mesh, client } = await hostAndClient(t);
  const observer = await replyObserver(t, url);
  const subject = mesh.subjects.rpc("Tally", shardOf("a", 4));
  let i = 0;
  for (const [what, header] of Object.entries(BAD_HEADER_BLOCKS)) {
    const payload = encodeCall({ actorId: "a", method: "add", timeoutMs: 5000, args: [100] });
    const reply = `reply.call${++i}`;
    await publishRaw(url, subject, { header, payload, reply });
    assertRefusal(t, await observer.replyTo(reply), what);
    t.is(
      await client.ref(Tally, "a", { timeoutMs: PROMPT_MS }).add(1),
      i,
      `${what}: the next call is served`,
    );
  }
  t.is(readerRestarts(mesh), 0, "served by the same reader all along, not rescued by the watchdog");
});

test("malformed headers - a tell with a bad header block is refused on its status subject, not run, and the host keeps serving", async (t) => {
  const { url, mesh, client } = await hostAndClient(t);
  const observer = await replyObserver(t, url);
  const subject = mesh.subjects.rpc("Tally", shardOf("b", 4));
  let i = 0;
  for (const [what, header] of Object.entries(BAD_HEADER_BLOCKS)) {
    const payload = encodeCall({ actorId: "b", method: "add", timeoutMs: 5000, args: [100], oneWay: true });
    const status = `reply.tell${++i}`;
    // One with a status subject (as Troupe sends tells), one without.
    await publishRaw(url, subject, { header, payload, reply: status }, { header, payload });
    assertRefusal(t, await observer.replyTo(status), what);
    client.ref(Tally, "b").tell.add(1);
    await eventually(
      async () => (await client.ref(Tally, "b", { timeoutMs: PROMPT_MS }).get()) === i,
      PROMPT_MS,
      `${what}: the good tell ran, the bad ones did not`,
    );
  }
  t.is(await client.ref(Tally, "b").get(), Object.keys(BAD_HEADER_BLOCKS).length);
});

test("malformed headers - a bad message on a client's reply inbox neither deafens it nor passes as a reply", async (t) => {
  const { url, client } = await hostAndClient(t);
  const responder = await natsConnect({ servers: url });
  t.teardown(() => responder.close());
  const waiting: string[] = [];
  responder.subscribe("probe.>", {
    callback: (_err, msg) => {
      waiting.push(msg.reply ?? "");
    },
  });
  await responder.flush();

  // A request whose reply never comes from its responder: an attacker answers it instead.
  const pending = client.transport.request("probe.1", new Uint8Array([1]), 60_000);
  await eventually(() => waiting.length === 1, PROMPT_MS, "the probe");
  const replyTo = waiting[0] ?? "";
  const inbox = replyTo.slice(0, replyTo.lastIndexOf("."));
  const [what, header] = Object.entries(BAD_HEADER_BLOCKS)[0] ?? [];
  if (!header) throw new Error("no bad header block");
  await publishRaw(url, replyTo, { header, payload: new Uint8Array([0x90]) });
  const err = await t.throwsAsync(pending, { instanceOf: MalformedMessageError }, what);
  t.regex(err?.message ?? "", /header/i);

  let i = 0;
  for (const [kind, header] of Object.entries(BAD_HEADER_BLOCKS)) {
    // Nothing waits on these: a request id never used, and a one-way message's status subject.
    await publishRaw(url, `${inbox}.99999${i}`, { header, payload: new Uint8Array([0x90]) });
    await publishRaw(url, `${inbox}.t${i + 1}`, { header, payload: new Uint8Array([0x90]) });
    t.is(
      await client.ref(Tally, "c", { timeoutMs: PROMPT_MS }).add(1),
      ++i,
      `${kind}: the client still hears replies`,
    );
  }
});

test.serial(
  "malformed headers - a stored job with a bad header block is dead-lettered with the reason, and the runner keeps running",
  async (t) => {
    const fx = await startMesh(t);
    await fx.mesh.host([Tally], { jobs: false, subscriptions: false });
    const runner = await startJobRunner(fx.mesh, [Tally], {
      initialDelayMs: 100,
      maxDelayMs: 1000,
      ackWaitMs: 5000,
    });
    t.teardown(() => runner.stop());
    const names = new JobNames(fx.mesh.subjects.prefix);
    const sent: string[] = [];
    for (const header of Object.values(MALFORMED_HEADER_BLOCKS)) {
      const jobId = `bad${sent.length}`;
      sent.push(jobId);
      const payload = encodeJob({
        jobId,
        actorId: "j",
        method: "add",
        args: [100],
        timeoutMs: 5000,
        maxAttempts: 0,
      });
      await publishRaw(fx.url, names.jobSubject("Tally", jobId), { header, payload });
    }
    const good = await enqueue(fx.mesh, Tally, "j").add(1);
    t.is(await good.result({ timeoutMs: PROMPT_MS }), 1, "the next job runs; the bad ones did not");
    const dead = async () => {
      const out = [];
      for await (const d of deadLetters(fx.mesh, { type: "Tally" })) out.push(d);
      return out;
    };
    await eventually(
      async () => (await dead()).length === sent.length,
      PROMPT_MS,
      "a dead letter per bad job",
    );
    for (const d of await dead()) {
      t.is(d.reason, "malformed");
      t.is(d.error.code, "TROUPE_MALFORMED_MESSAGE");
      t.regex(d.error.message, /header/i);
      t.true(sent.includes(d.jobId ?? ""), "the dead letter names its job");
      t.true(d.data.length > 0, "the original bytes are kept");
    }
    t.is(readerRestarts(fx.mesh), 0, "the runner's reader never stopped");
    t.is(await fx.mesh.ref(Tally, "j").get(), 1);
  },
);

test.serial(
  "malformed headers - a stored event with a bad header block is dead-lettered with the reason, and the subscriber keeps running",
  async (t) => {
    const fx = await startMesh(t);
    heard.length = 0;
    const host: Mesh = fx.mesh;
    await host.host([Listener], { jobs: false, subscriptions: false });
    const subs = await startSubscribers(host, [Listener], {
      initialDelayMs: 50,
      maxDelayMs: 300,
      ackWaitMs: 5000,
      pullExpiresMs: 1000,
    });
    t.teardown(() => subs.stop());
    const subject = `${host.subjects.prefix}.evt.hdr.bad`;
    let i = 0;
    for (const [, header] of Object.entries(MALFORMED_HEADER_BLOCKS)) {
      await publishRaw(fx.url, subject, { header, payload: encodeEvent({ id: `bad${i++}` }) });
    }
    await publish(host, "hdr.good", { id: "good" });
    await eventually(() => heard.includes("good"), PROMPT_MS, "the next event is handled");
    const dead = async () => {
      const out = [];
      for await (const d of deadLetters(host, { type: "Listener" })) out.push(d);
      return out;
    };
    await eventually(
      async () => (await dead()).length === Object.keys(MALFORMED_HEADER_BLOCKS).length,
      PROMPT_MS,
      "a dead letter per bad event",
    );
    for (const d of await dead()) {
      t.is(d.source, "event");
      t.is(d.reason, "malformed");
      t.regex(d.error.message, /header/i);
    }
    t.deepEqual(heard, ["good"], "no bad event reached the handler");
  },
);

test.serial(
  "malformed headers - a reminder message with a bad header block is dropped, and reminders keep firing",
  async (t) => {
    const fx = await startMesh(t);
    await fx.mesh.host([Napper], { jobs: false, subscriptions: false, reminders: { ackWaitMs: 3000 } });
    const names = new ReminderNames(fx.mesh.subjects.prefix);
    for (const header of Object.values(MALFORMED_HEADER_BLOCKS)) {
      const payload = encodeJson({
        id: "bad",
        name: "wake",
        dueAtMs: Date.now(),
        generation: 1,
        n: 0,
        attempt: 1,
      });
      await publishRaw(fx.url, names.subject("Napper", "bad", "wake"), { header, payload });
    }
    await fx.mesh.ref(Napper, "good").arm("wake", Date.now());
    await eventually(() => seen.of("good").length === 1, PROMPT_MS, "the next reminder fires");
    t.is(seen.of("bad").length, 0, "no bad reminder reached the actor");
    t.is(readerRestarts(fx.mesh), 0, "the reminder runner's reader never stopped");
  },
);

test.serial(
  "malformed headers - an ephemeral event with a bad header block is dropped as failed, and the next is handled",
  async (t) => {
    const fx = await startMesh(t);
    fleeting.length = 0;
    await fx.mesh.host([Fleeting], { jobs: false, subscriptions: false });
    const failed: unknown[] = [];
    const subs = await startSubscribers(fx.mesh, [Fleeting], {
      onEvent: (e) => {
        if (e.kind === "failed") failed.push(e.error);
      },
    });
    t.teardown(() => subs.stop());
    await fx.mesh.transport.flush();
    const subject = `${fx.mesh.subjects.prefix}.evt.hdr.fleeting`;
    for (const header of Object.values(BAD_HEADER_BLOCKS)) {
      await publishRaw(fx.url, subject, { header, payload: encodeEvent({ id: "bad" }) });
    }
    await publish(fx.mesh, "hdr.fleeting", { id: "good" });
    await eventually(() => fleeting.includes("good"), PROMPT_MS, "the next event is handled");
    await eventually(
      () => failed.length === Object.keys(BAD_HEADER_BLOCKS).length,
      PROMPT_MS,
      "each bad event failed",
    );
    t.true(failed.every((e) => e instanceof MalformedMessageError));
    t.deepEqual(fleeting, ["good"]);
  },
);
