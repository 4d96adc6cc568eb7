/** The runnable example of docs/patterns/throttling.md, run in-process on a real server. */
import test from "ava";
import { throttlingExample } from "../../services/examples/throttling/control-plane.js";
import { startServer } from "../helpers/nats.js";

test("examples - throttling with the control plane", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const lines: string[] = [];
  await throttlingExample(server.url, (line) => lines.push(line));
  const text = lines.join("\n");
  t.regex(text, /both hosts enforce it/);
  t.regex(text, /host-1 admitted \d+ at once, then: TROUPE_THROTTLED \(retry after \d+ ms\)/);
  t.regex(text, /another caller is not affected: true/);
  const m = /adaptive client: (\d+) attempts in 2 s, (\d+) refused/.exec(text);
  t.truthy(m, text);
  t.true(Number(m?.[2]) * 2 < Number(m?.[1]), `most attempts of the adaptive client get through: ${m?.[0]}`);
});
