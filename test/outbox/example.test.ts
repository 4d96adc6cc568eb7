/** The runnable example of docs/patterns/sparse-connectivity.md. */
import test from "ava";
import { fieldLogExample } from "../../services/examples/outbox/field-log.js";

test("outbox example - inspections made offline reach the logbook once the link is back", async (t) => {
  const lines: string[] = [];
  await fieldLogExample((l) => lines.push(l));
  const text = lines.join("\n");
  t.regex(text, /offline: 3 inspections kept in the outbox/);
  t.regex(text, /a call while offline fails at once: TROUPE_OFFLINE/);
  t.regex(text, /drained: 0 pending/);
  const book = lines.find((l) => l.startsWith("site-7 logbook: ")) ?? "";
  t.deepEqual(book.slice("site-7 logbook: ".length).split(", ").sort(), [
    "pump-1 ok",
    "pump-2 leaking",
    "pump-3 ok",
  ]);
});
