/**
 * The host's keepalive list (which calls get a keepalive, when, how often) and the caller's test
 * that tells a keepalive from a reply.
 */
import test from "ava";
import { type AwaitedCall, CallKeepalives } from "../../runtime/host/call-keepalives.js";
import { encode } from "../../runtime/messaging/codec.js";
import {
  encodeError,
  encodeKeepalive,
  encodeResult,
  keepaliveEveryMs,
} from "../../runtime/messaging/envelope.js";
import { recordingLogger } from "../helpers/logger.js";

class Call implements AwaitedCall {
  prevAwaited: AwaitedCall | undefined = undefined;
  nextAwaited: AwaitedCall | undefined = undefined;
  spokeAt = -1;
  constructor(
    readonly replyTo: string | undefined,
    readonly deadline = Number.POSITIVE_INFINITY,
  ) {}
}

function list(send: (replyTo: string) => boolean = () => true) {
  const sent: string[] = [];
  const bytes: Uint8Array[] = [];
  const log = recordingLogger();
  const keepalives = new CallKeepalives(
    1000,
    (replyTo, data) => {
      bytes.push(data);
      sent.push(replyTo);
      return send(replyTo);
    },
    log.logger,
  );
  return { keepalives, sent, bytes, log };
}

test("call keepalives - only calls without word for a whole interval get one, each once per interval", (t) => {
  const { keepalives, sent, bytes } = list();
  const a = new Call("r.a");
  const b = new Call("r.b");
  const c = new Call("r.c");
  keepalives.add(a, 0);
  keepalives.add(b, 400);
  keepalives.add(c, 900);
  t.is(keepalives.size, 3);
  keepalives.tick(999);
  t.deepEqual(sent, [], "nobody waited a whole interval yet");
  keepalives.tick(1000);
  t.deepEqual(sent, ["r.a"]);
  keepalives.tick(1500);
  t.deepEqual(sent, ["r.a", "r.b"], "a got word at 1000: not due again before 2000");
  keepalives.tick(2000);
  t.deepEqual(sent, ["r.a", "r.b", "r.c", "r.a"]);
  t.deepEqual(Buffer.from(bytes[0] ?? []), Buffer.from(encodeKeepalive(1000)));
});

test("call keepalives - an answered call gets no more; removing twice or an unlisted call is harmless", (t) => {
  const { keepalives, sent } = list();
  const a = new Call("r.a");
  const b = new Call("r.b");
  const c = new Call("r.c");
  for (const call of [a, b, c]) keepalives.add(call, 0);
  keepalives.remove(b);
  keepalives.remove(b);
  keepalives.remove(new Call("r.never"));
  t.is(keepalives.size, 2);
  keepalives.tick(1000);
  t.deepEqual(sent, ["r.a", "r.c"]);
  keepalives.remove(a);
  keepalives.remove(c);
  t.is(keepalives.size, 0);
  keepalives.tick(5000);
  t.deepEqual(sent, ["r.a", "r.c"]);
  // A removed call can be listed again (the same object is never reused today, but it must not corrupt the list).
  keepalives.add(a, 6000);
  keepalives.tick(7000);
  t.deepEqual(sent, ["r.a", "r.c", "r.a"]);
});

test("call keepalives - a failed send is logged once per tick and the others still get theirs; a closed connection stops the tick", (t) => {
  let closed = false;
  const { keepalives, sent, log } = list((replyTo) => {
    if (replyTo === "r.bad") throw new Error("too large");
    return !closed;
  });
  for (const r of ["r.a", "r.bad", "r.b"]) keepalives.add(new Call(r), 0);
  keepalives.tick(1000);
  t.deepEqual(sent, ["r.a", "r.bad", "r.b"]);
  t.deepEqual(
    log.at("warn").map((e) => [e.msg, e.fields?.failed]),
    [["call keepalives could not be sent", 1]],
  );
  closed = true;
  keepalives.tick(2000);
  t.deepEqual(sent, ["r.a", "r.bad", "r.b", "r.a"], "the first send said closed: nothing more");
});

test("call keepalives - a call past its deadline gets none and leaves the list", (t) => {
  const { keepalives, sent } = list();
  keepalives.add(new Call("r.short", 1500), 0);
  keepalives.add(new Call("r.long", 10_000), 0);
  keepalives.tick(1000);
  t.deepEqual(sent, ["r.short", "r.long"]);
  keepalives.tick(2000);
  t.deepEqual(sent, ["r.short", "r.long", "r.long"], "r.short's caller stopped waiting at 1500");
  t.is(keepalives.size, 1);
});

test("keepalive envelope - told apart from replies by its first bytes; anything else is not one", (t) => {
  t.is(keepaliveEveryMs(encodeKeepalive(2000)), 2000);
  t.is(keepaliveEveryMs(encodeKeepalive(1)), 1);
  t.is(keepaliveEveryMs(encodeKeepalive(86_400_000)), 86_400_000);
  for (const value of [null, 2, [1, 2, 2000], "x".repeat(300), { a: 1 }]) {
    t.is(keepaliveEveryMs(encodeResult(value)), -1, JSON.stringify(value));
  }
  t.is(keepaliveEveryMs(encodeError(new Error("boom"))), -1);
  for (const bad of [
    encode([1, 2, 0]),
    encode([1, 2, -5]),
    encode([1, 2, "soon"]),
    encode([2, 2, 1000]),
    encode([1, 2, 1000, 4]),
    new Uint8Array([0x93, 0x01, 0x02]), // truncated
    new Uint8Array([0x93, 0x01, 0x02, 0xc1]), // reserved byte
    new Uint8Array(0),
  ]) {
    t.is(keepaliveEveryMs(bad), -1, Buffer.from(bad).toString("hex"));
  }
});
