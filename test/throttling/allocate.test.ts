import test from "ava";
import fc from "fast-check";
import { splitLimit, splitRate, splitWhole } from "../../services/control-plane/allocate.js";

const demands = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })), {
  minLength: 1,
  maxLength: 12,
});

test("allocation - rate shares always sum to the limit and are never negative", (t) => {
  fc.assert(
    fc.property(fc.double({ min: 0.001, max: 1e6, noNaN: true }), demands, (limit, d) => {
      const shares = splitRate(limit, d);
      const sum = shares.reduce((a, b) => a + b, 0);
      return (
        shares.length === d.length && shares.every((s) => s >= 0) && Math.abs(sum - limit) <= limit * 1e-9
      );
    }),
  );
  t.pass();
});

test("allocation - whole shares are integers summing to the limit, at least 1 each when the limit allows", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100_000 }), demands, (limit, d) => {
      const shares = splitWhole(limit, d);
      const sum = shares.reduce((a, b) => a + b, 0);
      const floorOk = limit < d.length || shares.every((s) => s >= 1);
      return shares.every(Number.isInteger) && sum === limit && floorOk;
    }),
  );
  t.pass();
});

test("allocation - under the limit each host gets its demand plus an equal part of the headroom", (t) => {
  t.deepEqual(splitRate(200, [100, 50, 0]).map(Math.round), [117, 67, 17]);
  t.deepEqual(splitRate(90, [0, 0, 0]), [30, 30, 30]);
});

test("allocation - over the limit shares follow demand, and a quiet host keeps a small part", (t) => {
  const [busy, quiet] = splitRate(200, [900, 100]);
  t.is(Math.round(busy ?? 0), 176);
  t.is(Math.round(quiet ?? 0), 24);
  const [heavy, idle] = splitRate(100, [1000, 0]);
  t.true((idle ?? 0) > 0, "a host with no demand yet is not starved");
  t.true((heavy ?? 0) > 90);
});

test("allocation - splitLimit splits rate and burst by rate demand, concurrency by concurrency demand", (t) => {
  const shares = splitLimit({ ratePerSecond: 100, burst: 10, maxConcurrency: 8 }, [
    { rate: 300, concurrency: 1 },
    { rate: 0, concurrency: 7 },
    undefined,
  ]);
  t.true(Math.abs(shares.reduce((a, s) => a + s.ratePerSecond, 0) - 100) < 1e-9);
  t.is(
    shares.reduce((a, s) => a + s.burst, 0),
    10,
  );
  t.is(
    shares.reduce((a, s) => a + s.maxConcurrency, 0),
    8,
  );
  t.true((shares[0]?.ratePerSecond ?? 0) > (shares[1]?.ratePerSecond ?? 0));
  t.true((shares[1]?.maxConcurrency ?? 0) > (shares[0]?.maxConcurrency ?? 0));
  t.true(
    shares.every((s) => s.burst >= 1),
    "every host can admit at least one turn",
  );
});
