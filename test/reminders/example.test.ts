/** The runnable example of docs/patterns/reminders.md, in-process on a real nats-server. */
import test from "ava";
import { remindersExample } from "../../services/examples/reminders/invoice.js";
import { startMesh } from "../helpers/mesh.js";

test("reminders example - an invoice nags until paid; paying cancels the overdue reminder", async (t) => {
  const { mesh } = await startMesh(t);
  const lines: string[] = [];
  await remindersExample(mesh, (l) => lines.push(l));
  t.regex(lines[0] ?? "", /^paid after \d+ reminders$/);
  t.true(Number(/(\d+)/.exec(lines[0] ?? "")?.[1]) >= 2);
  t.is(lines[1], "overdue: false, paid: true");
});
