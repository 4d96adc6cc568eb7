/** Tells on the wire: the one-way envelope, the ring that retains sent tells, and subject parsing. */
import test from "ava";
import { MalformedMessageError } from "troupe";
import { encode } from "../../runtime/messaging/codec.js";
import { decodeCall, encodeCall } from "../../runtime/messaging/envelope.js";
import { Subjects } from "../../runtime/messaging/subjects.js";
import { MAX_RETAINED_BYTES, OneWayRing } from "../../runtime/transport/one-way-ring.js";

test("one-way envelope - a tell carries a sixth element; a call does not", (t) => {
  const call = { actorId: "a", method: "m", timeoutMs: 5, args: [1] };
  t.deepEqual(decodeCall(encodeCall(call)), call);
  t.deepEqual(decodeCall(encodeCall({ ...call, oneWay: true })), { ...call, oneWay: true });
  t.deepEqual(decodeCall(encodeCall({ ...call, oneWay: false })), call);
  for (const bad of [
    [1, "a", "m", 5, [1], 0],
    [1, "a", "m", 5, [1], true],
    [1, "a", "m", 5, [1], 1, 1],
  ]) {
    t.throws(() => decodeCall(encode(bad)), { instanceOf: MalformedMessageError }, JSON.stringify(bad));
  }
});

test("one-way ring - returns a message once, forgets it when overwritten, keeps no large payload", (t) => {
  const ring = new OneWayRing(3); // rounded up to 4 slots
  const small = new Uint8Array([1, 2, 3]);
  const large = new Uint8Array(MAX_RETAINED_BYTES + 1);
  ring.put(1, "s.1", small, { h: "v" }, 0);
  ring.put(2, "s.2", large, undefined, 300);
  const one = ring.take(1);
  t.is(one?.subject, "s.1");
  t.is(one?.data, small);
  t.deepEqual(one?.headers, { h: "v" });
  t.true(typeof one?.sentAt === "number");
  t.is(ring.take(1), undefined, "taken once");
  const two = ring.take(2);
  t.is(two?.subject, "s.2");
  t.is(two?.data, undefined, "too large to retain: reported, not resent");
  t.is(one?.attempt, 0);
  t.is(two?.attempt, 255, "attempts are counted up to 255");
  for (let seq = 3; seq <= 7; seq++) ring.put(seq, `s.${seq}`, small, undefined, 1);
  t.is(ring.take(3), undefined, "overwritten by 7");
  t.is(ring.take(7)?.subject, "s.7");
  t.is(ring.take(99), undefined);
});

test("subjects - rpcType is the inverse of rpc for this prefix only", (t) => {
  const s = new Subjects("shop");
  t.is(s.rpcType(s.rpc("Cart", 17)), "Cart");
  t.is(s.rpcType("other.rpc.Cart.17"), undefined);
  t.is(s.rpcType("shop.rpc.17"), undefined);
  t.is(s.rpcType("shop.evt.x"), undefined);
});
