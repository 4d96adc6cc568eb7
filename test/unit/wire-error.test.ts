import test from "ava";
import fc from "fast-check";
import {
  ActorMethodError,
  type ErrorDetails,
  fromWireError,
  MalformedMessageError,
  TerminalError,
  TroupeError,
  toWireError,
} from "../../runtime/errors.js";
import { decodeReply, encodeError } from "../../runtime/messaging/envelope.js";
import { describeThrown } from "../../runtime/thrown.js";

/** Throwable values nobody should throw, but JavaScript allows. */
const odd = fc.constantFrom<() => unknown>(
  () => Object.create(null),
  () => ({
    toString() {
      throw new Error("x");
    },
  }),
  () => {
    const e = new Error("m");
    Object.defineProperty(e, "message", {
      get() {
        throw new Error("getter");
      },
    });
    return e;
  },
  () =>
    new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
        getPrototypeOf() {
          throw new Error("trap");
        },
        ownKeys() {
          throw new Error("trap");
        },
      },
    ),
  () => {
    const loop: Record<string, unknown> = {};
    loop.loop = loop;
    return new TerminalError("cyclic", { details: loop as unknown as ErrorDetails });
  },
  () => new TerminalError("big", { details: { n: 10n ** 1000n } as unknown as ErrorDetails }),
  () =>
    new TerminalError("keys", { details: { constructor: "x", __proto__: "y" } as unknown as ErrorDetails }),
  () => Symbol("s"),
  () => 10n ** 100_000n,
  () => "x".repeat(100_000),
);

const thrownValues = fc.oneof(
  fc.anything({
    withBigInt: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withBoxedValues: true,
  }),
  odd.map((make) => make()),
  fc.string().map((m) => new RangeError(m)),
);

test("wire errors - whatever was thrown, its error reply encodes and decodes as a typed error", (t) => {
  fc.assert(
    fc.property(thrownValues, (thrown) => {
      const reply = decodeReply(encodeError(thrown));
      t.false(reply.ok);
      if (reply.ok) return;
      t.true(reply.error instanceof TroupeError);
      t.false(reply.error instanceof MalformedMessageError, reply.error.message);
      t.is(typeof reply.error.message, "string");
      t.true(reply.error.message.length <= 16 * 1024 + 1);
    }),
    { numRuns: 3000 },
  );
});

test("wire errors - odd throws become ActorMethodError with a safe description, TroupeErrors keep their code", (t) => {
  t.deepEqual(toWireError(Object.create(null)), {
    code: "TROUPE_ACTOR_METHOD_FAILED",
    message: "an object without a prototype",
    details: { remoteName: "object" },
  });
  t.true(fromWireError(toWireError(undefined)) instanceof ActorMethodError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const wire = toWireError(new TerminalError("t", { details: { cyclic, ok: 1 } as unknown as ErrorDetails }));
  t.is(wire.code, "TROUPE_TERMINAL");
  t.deepEqual(wire.details, { cyclic: "[Object]", ok: 1 });
  t.regex(describeThrown(10n ** 1000n).message, /^a BigInt of about \d+ bits$/);
  t.is(describeThrown(12n).message, "12");
});
