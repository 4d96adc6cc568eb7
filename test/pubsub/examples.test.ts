/** The runnable example of docs/patterns/publish-subscribe.md, in-process on a real server. */
import test from "ava";
import { ordersExample } from "../../services/examples/pubsub/orders.js";
import { startMesh } from "../helpers/mesh.js";

test("pubsub examples - orders fan out to billing, mailer and stats", async (t) => {
  const { mesh } = await startMesh(t);
  const lines: string[] = [];
  await ordersExample(mesh, (l) => lines.push(l));
  t.regex(lines.join("\n"), /stats saw 3 order events[\s\S]*o-1: 1, o-2: 1[\s\S]*mailed: o-2$/);
});
