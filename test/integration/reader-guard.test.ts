/**
 * nats.js's read loop survives whatever a message holds (runtime/transport/reader-guard.ts), and a
 * reader that died anyway is noticed and the connection re-established
 * (runtime/transport/reader-watchdog.ts).
 */
import { type Msg, headers as natsHeaders } from "@nats-io/nats-core";
import { connect as natsConnect } from "@nats-io/transport-node";
import test, { type ExecutionContext } from "ava";
import { consoleLogger, MalformedMessageError } from "troupe";
import { rawHeaderBytes } from "../../runtime/transport/headers.js";
import { NatsTransport } from "../../runtime/transport/nats-transport.js";
import type { ReaderCheckOptions } from "../../runtime/transport/reader-watchdog.js";
import { eventually } from "../helpers/mesh.js";
import { startServer } from "../helpers/nats.js";
import { BAD_HEADER_BLOCKS, publishRaw } from "../helpers/raw-nats.js";

const PROMPT_MS = 10_000;
const [BAD_WHAT, BAD] = Object.entries(BAD_HEADER_BLOCKS)[0] ?? ["", Buffer.alloc(0)];

async function open(t: ExecutionContext, url: string, readerCheck?: ReaderCheckOptions) {
  const transport = await NatsTransport.connect(
    { servers: url, ...(readerCheck ? { readerCheck } : {}) },
    consoleLogger("silent"),
  );
  t.teardown(() => transport.close());
  return transport;
}

/** Another connection answering every request on `echo.>` with its payload. */
async function echoResponder(t: ExecutionContext, url: string) {
  const nc = await natsConnect({ servers: url });
  t.teardown(() => nc.close());
  nc.subscribe("echo.>", {
    callback: (_err, msg) => {
      msg.respond(msg.data);
    },
  });
  await nc.flush();
  return nc;
}

test("reader guard - is installed, and finds header bytes where this nats.js version keeps them", async (t) => {
  const server = await startServer(t);
  const transport = await open(t, server.url);
  t.true(transport.readerGuard.installed, "protocol.processMsg is wrapped");
  const seen: Msg[] = [];
  const sub = transport.nc.subscribe("pin.>", {
    callback: (_err, msg) => {
      seen.push(msg);
    },
  });
  const other = await natsConnect({ servers: server.url });
  t.teardown(() => other.close());
  other.publish("pin.a", new Uint8Array([1]));
  other.publish("pin.b", new Uint8Array([2]), { headers: headersOf({ traceparent: "x" }) });
  await other.flush();
  await eventually(() => seen.length === 2, PROMPT_MS, "both messages");
  sub.unsubscribe();
  t.is(rawHeaderBytes(seen[0] as Msg), null, "no header block");
  const raw = rawHeaderBytes(seen[1] as Msg);
  t.true(raw instanceof Uint8Array, "the raw header block, not nats.js's decoder");
  t.regex(Buffer.from(raw ?? []).toString(), /^NATS\/1\.0\r\ntraceparent: x\r\n/);
});

test("reader guard - a malformed reply to nats.js's own request (as the JetStream API uses) reaches it without its header block, and the reader goes on", async (t) => {
  const server = await startServer(t);
  const transport = await open(t, server.url);
  await echoResponder(t, server.url);
  const listener = await natsConnect({ servers: server.url });
  t.teardown(() => listener.close());
  const replyTo: string[] = [];
  listener.subscribe("silent.>", {
    callback: (_err, msg) => {
      replyTo.push(msg.reply ?? "");
    },
  });
  await listener.flush();
  const pending = transport.nc.request("silent.1", new Uint8Array([1]), { timeout: 60_000 });
  await eventually(() => replyTo.length === 1, PROMPT_MS, "the request");
  await publishRaw(server.url, replyTo[0] ?? "", { header: BAD, payload: Buffer.from("hi") });
  const reply = await pending;
  t.is(Buffer.from(reply.data).toString(), "hi", BAD_WHAT);
  t.is(reply.headers, undefined, "the malformed block was removed");
  t.is(transport.readerGuard.stripped, 1);
  const echoed = await transport.request("echo.1", new Uint8Array([7]), PROMPT_MS);
  t.is(echoed.kind, "reply", "the connection still hears replies");
});

test("reader guard - a key-value entry with a malformed header block fails a get with MalformedMessageError, and a watch goes on", async (t) => {
  const server = await startServer(t);
  const transport = await open(t, server.url);
  const bucket = await transport.keyValue("hdrkv");
  const watch = await bucket.watch();
  const keys: string[] = [];
  void (async () => {
    for await (const change of watch) keys.push(change.key);
  })();
  t.teardown(() => watch.stop());
  await publishRaw(server.url, "$KV.hdrkv.bad", { header: BAD, payload: Buffer.from("x") });
  await bucket.put("good", new Uint8Array([1]));
  await eventually(() => keys.includes("good"), PROMPT_MS, "the watch saw the next entry");
  const err = await t.throwsAsync(bucket.get("bad"), { instanceOf: MalformedMessageError });
  t.regex(err?.message ?? "", /header/);
  t.deepEqual([...((await bucket.get("good"))?.value ?? [])], [1]);
});

test("reader watchdog - a reader that died with the socket open is noticed and the connection re-established", async (t) => {
  const server = await startServer(t);
  const check = { everyMs: 100, timeoutMs: 1000 };
  const transport = await open(t, server.url, check);
  await echoResponder(t, server.url);
  t.is((await transport.request("echo.0", new Uint8Array([0]), PROMPT_MS)).kind, "reply");

  // Kill the reader as an unguarded bug would: throw from the dispatch above the guard, once.
  const protocol = (transport.nc as unknown as { protocol: { push(e: unknown): void } }).protocol;
  const push = protocol.push.bind(protocol);
  let thrown = false;
  protocol.push = (e: unknown) => {
    const subject = (e as { msg?: { subject?: Uint8Array } }).msg?.subject;
    if (!thrown && subject && Buffer.from(subject).toString() === "die.now") {
      thrown = true;
      throw new Error("a bug in the read loop");
    }
    push(e);
  };
  transport.nc.subscribe("die.now", { callback: () => undefined });
  await transport.nc.flush();
  const killer = await natsConnect({ servers: server.url });
  t.teardown(() => killer.close());
  killer.publish("die.now");
  await killer.flush();
  await eventually(() => thrown, PROMPT_MS, "the reader to die");

  // Deaf now: only the watchdog can bring it back (nats.js's own pings would take minutes).
  const restartWithinMs = 20 * (check.everyMs + check.timeoutMs);
  await eventually(
    () => transport.readerWatchdog.restarts === 1,
    restartWithinMs,
    "the watchdog's reconnect",
  );
  await eventually(
    async () => {
      try {
        return (await transport.request("echo.1", new Uint8Array([1]), 1000)).kind === "reply";
      } catch {
        return false;
      }
    },
    PROMPT_MS,
    "a reply after the reconnect",
  );
  t.pass();
});

function headersOf(record: Record<string, string>) {
  // nats.js's own builder, on the sending side only.
  return Object.entries(record).reduce((h, [k, v]) => {
    h.set(k, v);
    return h;
  }, natsHeaders());
}
