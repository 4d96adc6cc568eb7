/** Repeated warnings are aggregated per key: bounded lines, every occurrence counted (no NATS). */
import test from "ava";
import { limitRepeats, MAX_REPEAT_KEYS, RepeatLimiter, repeatsOf } from "../../runtime/log.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually } from "../helpers/mesh.js";

/** Occurrences a log stands for: lines without `suppressed` count 1, summaries count `suppressed`. */
function occurrences(entries: { fields: Record<string, unknown> | undefined }[]): number {
  return entries.reduce(
    (n, e) => n + (typeof e.fields?.suppressed === "number" ? e.fields.suppressed : 1),
    0,
  );
}

test("repeat limiter - a flood under one key writes the first line at once and one summary with the count and the last context", async (t) => {
  const log = recordingLogger();
  const limiter = new RepeatLimiter(log.logger, { everyMs: 100 });
  for (let i = 0; i < 10_000; i++) limiter.warn("refused:Echo:BAD", "refused a call", { i });
  t.is(log.entries.length, 1, "only the first is written at once");
  t.deepEqual(log.entries[0], { level: "warn", msg: "refused a call", fields: { i: 0 } });
  await eventually(() => log.entries.length === 2, 10_000, "the summary line");
  const summary = log.entries[1];
  t.is(summary?.msg, "refused a call");
  t.is(summary?.fields?.i, 9_999, "the last occurrence's context");
  t.is(summary?.fields?.suppressed, 9_999);
  t.true(typeof summary?.fields?.overMs === "number");
  t.is(occurrences(log.entries), 10_000);
  // A quiet key is forgotten after an interval without a line: nothing stays behind.
  await eventually(() => limiter.size === 0, 10_000, "the quiet key forgotten");
  t.is(log.entries.length, 2);
});

test("repeat limiter - keys and levels are limited separately", (t) => {
  const log = recordingLogger();
  const limiter = new RepeatLimiter(log.logger, { everyMs: 60_000 });
  t.teardown(() => limiter.flush());
  limiter.warn("a", "first kind");
  limiter.warn("a", "first kind");
  limiter.warn("b", "second kind");
  limiter.error("a", "first kind, as an error");
  t.deepEqual(
    log.entries.map((e) => [e.level, e.msg]),
    [
      ["warn", "first kind"],
      ["warn", "second kind"],
      ["error", "first kind, as an error"],
    ],
  );
  limiter.flush();
  t.is(log.entries.length, 4, "flush writes the one pending summary");
  t.is(log.entries[3]?.fields?.suppressed, 1);
  t.is(limiter.size, 0);
});

test("repeat limiter - distinct keys are bounded: the excess shares one overflow key", (t) => {
  const log = recordingLogger();
  const limiter = new RepeatLimiter(log.logger, { everyMs: 60_000 });
  t.teardown(() => limiter.flush());
  const n = MAX_REPEAT_KEYS + 500;
  for (let i = 0; i < n; i++) limiter.warn(`k${i}`, "distinct", { i });
  t.is(limiter.size, MAX_REPEAT_KEYS + 1);
  t.is(log.entries.length, MAX_REPEAT_KEYS + 1);
  limiter.flush();
  t.is(occurrences(log.entries), n);
});

test("repeat limiter - everyMs 0 writes every line; bad intervals are refused", (t) => {
  const log = recordingLogger();
  const limiter = new RepeatLimiter(log.logger, { everyMs: 0 });
  for (let i = 0; i < 5; i++) limiter.warn("k", "each");
  t.is(log.entries.length, 5);
  for (const everyMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new RepeatLimiter(log.logger, { everyMs }), { instanceOf: TypeError });
  }
});

test("repeat limiter - one limiter per logger, reconfigurable", (t) => {
  const log = recordingLogger();
  t.is(repeatsOf(log.logger), repeatsOf(log.logger));
  const other = recordingLogger();
  t.not(repeatsOf(log.logger), repeatsOf(other.logger));
  repeatsOf(log.logger).warn("k", "once");
  repeatsOf(log.logger).warn("k", "twice");
  const set = limitRepeats(log.logger, { everyMs: 0 });
  t.is(repeatsOf(log.logger), set);
  t.is(log.entries.length, 2, "the pending summary was written before the change");
  t.is(log.entries[1]?.fields?.suppressed, 1);
});
