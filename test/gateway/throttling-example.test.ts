/**
 * docs/gateway.md's gateway-throttling example, run in-process on a real server (control plane,
 * host, gateway, HTTP and WebSocket clients); its output must be the doc's, up to the figures
 * that depend on timing (how many calls the bucket admitted before refilling, the seconds to wait).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { gatewayThrottlingExample } from "../../services/examples/gateway/throttling.js";
import { startServer } from "../helpers/nats.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const timingFree = (text: string) =>
  text
    .trim()
    .replace(/\d+ calls admitted/, "N calls admitted")
    .replace(/retry-after: \d+/, "retry-after: S")
    .replace(/;t=\d+/, ";t=S");

test("examples - throttling at the gateway: 429 with RateLimit headers, error frames on the WebSocket", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const lines: string[] = [];
  await gatewayThrottlingExample(server.url, (line) => lines.push(line));
  const output = lines.join("\n");
  t.regex(output, /shop-web: [1-9]\d* calls admitted, then 429 TROUPE_THROTTLED/);
  const doc = await readFile(path.join(root, "docs/gateway.md"), "utf8");
  const expected = /<!-- gateway-throttling-example-output -->\n```\n([\s\S]*?)```/.exec(doc)?.[1];
  t.truthy(expected, "docs/gateway.md shows the example's output");
  t.is(timingFree(output), timingFree(expected ?? ""));
});
