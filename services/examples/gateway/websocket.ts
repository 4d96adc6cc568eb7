/**
 * The gateway's WebSocket, end to end: a host with the shop's Visits actor, a gateway with an API
 * key, and a client on one socket that calls an actor, subscribes to events with a filter, sees a
 * typed error frame for a bad frame, and is closed with 1001 when the gateway drains.
 * docs/websocket.md walks through it; test/gateway/websocket-example.test.ts runs it.
 *
 *   node --conditions=troupe-source --import tsx services/examples/gateway/websocket.ts
 */
import { pathToFileURL } from "node:url";
import { connect, consoleLogger } from "troupe";
import { startNatsServer } from "troupe/testing";
import WebSocket from "ws";
import { ApiKeys, credentials, startGateway } from "../../gateway/index.js";
import { Visits } from "../shop/visits.js";

// biome-ignore lint/suspicious/noExplicitAny: frames are JSON read field by field
type Frame = Record<string, any>;

export async function websocketExample(natsUrl: string, log: (line: string) => void): Promise<void> {
  const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");
  const prefix = `wsexample${process.pid}`;
  const hostMesh = await connect({ servers: natsUrl, prefix, logger });
  const host = await hostMesh.host([Visits]);
  const gatewayMesh = await connect({ servers: natsUrl, prefix, logger, adaptiveRate: false });
  const key = "shop-web-key-0123456789";
  const gateway = await startGateway({
    mesh: gatewayMesh,
    auth: credentials({ apiKeys: ApiKeys.parse(`shop-web ${key}\n`) }),
    port: 0,
    logger,
  });
  const wsUrl = `${gateway.url.replace(/^http/, "ws")}/v1/ws`;
  try {
    // 1. No credentials: refused before the upgrade, with the HTTP routes' problem.
    const refused = await new Promise<number>((resolve) => {
      const anonymous = new WebSocket(wsUrl);
      anonymous.on("error", () => undefined);
      anonymous.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    });
    log(`without credentials: ${refused}`);

    // 2. With the API key: one socket for calls and events.
    const ws = new WebSocket(wsUrl, "troupe.v1", { headers: { "x-api-key": key } });
    const frames: Frame[] = [];
    const waiting: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      frames.push(frame);
      for (const w of waiting.filter((x) => x.match(frame))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(frame);
      }
    });
    const next = (match: (f: Frame) => boolean) =>
      new Promise<Frame>((resolve) => {
        const seen = frames.find(match);
        if (seen) resolve(seen);
        else waiting.push({ match, resolve });
      });
    const request = (frame: Frame) => {
      const answer = next((f) => f.id === frame.id && f.op !== "event");
      ws.send(JSON.stringify(frame));
      return answer;
    };
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    const welcome = await next((f) => f.op === "welcome");
    log(`welcome: ${welcome.principal}, at most ${welcome.limits.maxInFlight} calls in flight`);

    const hit = await request({ op: "call", id: 1, actorType: "Visits", actorId: "home", method: "hit" });
    log(`call Visits/home.hit -> ${JSON.stringify(hit)}`);

    log(
      `subscribe -> ${JSON.stringify(await request({ op: "subscribe", id: "big-orders", pattern: "orders.*", filter: "total > 10" }))}`,
    );
    await gatewayMesh.publish("orders.placed", { orderId: "o-1", total: 5 });
    await gatewayMesh.publish("orders.placed", { orderId: "o-2", total: 42 });
    const event = await next((f) => f.op === "event");
    log(`event -> ${JSON.stringify(event)}`);

    const bad = await request({ op: "call", id: 2, actorType: "Visits", actorId: "home", method: "nope" });
    log(`unknown method -> ${bad.op} ${bad.error.code} ${bad.error.status}`);
    ws.send("this is not JSON");
    const malformed = await next((f) => f.op === "error" && f.id === null);
    log(`malformed frame -> ${malformed.op} ${malformed.error.code}`);

    // 3. The gateway drains: in-flight calls answer, then the socket closes with 1001.
    await gateway.close();
    log(`gateway closed the socket with ${await closed}`);
  } finally {
    await gateway.close();
    await gatewayMesh.close();
    await host.drain();
    await hostMesh.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = process.env.NATS_URL ? undefined : await startNatsServer({ jetstream: true });
  try {
    await websocketExample(process.env.NATS_URL ?? server?.url ?? "", (line) => console.log(line));
  } finally {
    await server?.cleanup();
  }
}
