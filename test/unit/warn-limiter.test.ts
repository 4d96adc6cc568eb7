/** Warnings about received messages are rate-limited per kind (runtime/transport/warn-limiter.ts). */
import test from "ava";
import type { LogFields, Logger } from "../../runtime/log.js";
import { WarnLimiter } from "../../runtime/transport/warn-limiter.js";

function recorder() {
  const lines: { msg: string; fields: LogFields | undefined }[] = [];
  const record = (msg: string, fields?: LogFields) => {
    lines.push({ msg, fields });
  };
  const logger = { debug: record, info: record, warn: record, error: record } as unknown as Logger;
  return { lines, logger };
}

test("warn limiter - one line per kind per interval, the next one carrying the count of those suppressed", (t) => {
  const { lines, logger } = recorder();
  let now = 0;
  const warn = new WarnLimiter(logger, 1000, () => now);
  for (let i = 0; i < 10_000; i++) warn.warn("a", "bad message", { i });
  warn.warn("b", "other kind");
  t.deepEqual(
    lines.map((l) => l.msg),
    ["bad message", "other kind"],
    "a flood logs one line per kind",
  );
  now = 999;
  t.false(warn.warn("a", "bad message", { i: -1 }));
  now = 1000;
  t.true(warn.warn("a", "bad message", { i: 10_001 }));
  t.deepEqual(lines[2]?.fields, { i: 10_001, suppressed: 10_000 });
  now = 5000;
  warn.warn("a", "bad message", { i: 10_002 });
  t.deepEqual(lines[3]?.fields, { i: 10_002 }, "nothing suppressed since the last line");
});
