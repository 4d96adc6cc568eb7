/** The activation's mailbox: a bounded FIFO queue, checked against an array model (no NATS). */
import test from "ava";
import fc from "fast-check";
import { Mailbox } from "../../runtime/actor/mailbox.js";

type Op = { push: number } | { unbounded: number } | "shift" | "takeAll";

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ push: fc.nat() }),
  fc.record({ unbounded: fc.nat() }),
  fc.constant("shift" as const),
  fc.constant("takeAll" as const),
);

test("mailbox - any sequence of pushes and takes behaves as a bounded FIFO array", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
      const box = new Mailbox<{ n: number }>(capacity);
      const model: { n: number }[] = [];
      for (const o of ops) {
        if (o === "shift") {
          if (box.shift() !== model.shift()) return false;
        } else if (o === "takeAll") {
          const taken = box.takeAll();
          if (taken.length !== model.length || taken.some((x, i) => x !== model[i])) return false;
          model.length = 0;
        } else if ("push" in o) {
          const item = { n: o.push };
          const accepted = box.push(item);
          if (accepted !== model.length < capacity) return false;
          if (accepted) model.push(item);
        } else {
          const item = { n: o.unbounded };
          box.pushUnbounded(item);
          model.push(item);
        }
        if (box.size !== model.length) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test("mailbox - a long queue taken from the front stays in order across its compaction", (t) => {
  const box = new Mailbox<number>(Number.POSITIVE_INFINITY);
  for (let i = 1; i <= 5_000; i++) box.push(i);
  const out: number[] = [];
  // Take more than half (past the compaction point), add more, take the rest.
  for (let i = 0; i < 3_000; i++) out.push(box.shift() as number);
  for (let i = 5_001; i <= 6_000; i++) box.push(i);
  t.is(box.size, 3_000);
  out.push(...box.takeAll());
  t.deepEqual(
    out,
    Array.from({ length: 6_000 }, (_, i) => i + 1),
  );
  t.is(box.size, 0);
  t.is(box.shift(), undefined);
});
