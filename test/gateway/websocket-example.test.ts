/** The runnable example of docs/websocket.md, run in-process on a real server; its output is the doc's. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { websocketExample } from "../../services/examples/gateway/websocket.js";
import { startServer } from "../helpers/nats.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

test("examples - the gateway's WebSocket: calls, events, error frames and drain on one socket", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const lines: string[] = [];
  await websocketExample(server.url, (line) => lines.push(line));
  const doc = await readFile(path.join(root, "docs/websocket.md"), "utf8");
  const expected = /<!-- websocket-example-output -->\n```\n([\s\S]*?)```/.exec(doc)?.[1];
  t.truthy(expected, "docs/websocket.md shows the example's output");
  t.is(lines.join("\n"), expected?.trim() ?? "");
});
