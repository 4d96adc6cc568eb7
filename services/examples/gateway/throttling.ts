/**
 * Throttling at the gateway, end to end on one machine: a control plane with a policy for one
 * principal, a gateway enforcing its share of it before anything reaches NATS (429 with
 * Retry-After and RateLimit headers over HTTP, a TROUPE_THROTTLED error frame over the
 * WebSocket), and another principal unaffected. docs/gateway.md shows its output;
 * test/gateway/throttling-example.test.ts runs it.
 *
 *   node --conditions=troupe-source --import tsx services/examples/gateway/throttling.ts
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import type { ServiceError } from "@grpc/grpc-js";
import { connect, consoleLogger } from "troupe";
import { connectControlPlane, type ThrottlePolicy } from "troupe/internal";
import { startNatsServer } from "troupe/testing";
import WebSocket from "ws";
import { startControlPlane } from "../../control-plane/index.js";
import { ApiKeys, credentials, startGateway } from "../../gateway/index.js";
import { Visits } from "../shop/visits.js";

export async function gatewayThrottlingExample(natsUrl: string, log: (line: string) => void): Promise<void> {
  const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");
  const prefix = `gwthrottle${process.pid}`;
  const token = randomBytes(24).toString("base64url");
  const plane = await startControlPlane({
    port: 0,
    bind: "127.0.0.1",
    nats: { servers: natsUrl },
    prefix,
    tokens: [token],
    logger,
  });
  const admin = connectControlPlane({ address: plane.address, token });
  const hostMesh = await connect({ servers: natsUrl, prefix, logger });
  const host = await hostMesh.host([Visits]);
  const gatewayMesh = await connect({ servers: natsUrl, prefix, logger, adaptiveRate: false });
  const keys = { web: "shop-web-key-0123456789", batch: "batch-job-key-0123456789" };
  const gateway = await startGateway({
    mesh: gatewayMesh,
    auth: credentials({ apiKeys: ApiKeys.parse(`shop-web ${keys.web}\nbatch ${keys.batch}\n`) }),
    port: 0,
    logger,
    // The gateway's own enforcer, with its share of every limit from this control plane.
    throttling: { controlPlane: plane.address, token },
  });
  try {
    // 1. shop-web may call Visits 2 times a second (burst 2), over all gateways together.
    const policy: ThrottlePolicy = {
      name: "shop-web-visits",
      match: { callers: ["shop-web"], actorTypes: ["Visits"] },
      limit: { ratePerSecond: 2, burst: 2 },
      keyBy: "KEY_BY_CALLER",
    };
    await new Promise<void>((resolve, reject) =>
      admin.throttle.SetPolicy({ policy }, admin.metadata(), (err: ServiceError | null) =>
        err ? reject(err) : resolve(),
      ),
    );
    while (!gateway.enforcer?.policies().includes("shop-web-visits")) await sleep(20);
    log(`policy ${policy.name}: 2/s, burst 2, for caller shop-web; the gateway has its share`);

    // 2. Calls in a row: the burst passes, then 429 before anything is sent to NATS.
    const call = (key: string) =>
      fetch(`${gateway.url}/v1/actors/Visits/home/hit`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: "[]",
      });
    let admitted = 0;
    let refused: Response | undefined;
    while (!refused) {
      const res = await call(keys.web);
      if (res.status === 429) refused = res;
      else if (res.ok) admitted += 1;
      else throw new Error(`unexpected ${res.status}: ${await res.text()}`);
    }
    const problem = (await refused.json()) as { code: string };
    log(`shop-web: ${admitted} calls admitted, then ${refused.status} ${problem.code}`);
    log(`  retry-after: ${refused.headers.get("retry-after")}`);
    log(`  ratelimit-policy: ${refused.headers.get("ratelimit-policy")}`);
    log(`  ratelimit: ${refused.headers.get("ratelimit")}`);

    // 3. Another principal is not under shop-web's policy.
    log(`batch: ${(await call(keys.batch)).status}`);

    // 4. The same limit on the WebSocket: a refused call frame is an error frame.
    const ws = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/v1/ws`, {
      headers: { "x-api-key": keys.web },
    });
    const refusal = await new Promise<{ code: string; status: number }>((resolve, reject) => {
      let id = 0;
      const send = () =>
        ws.send(
          JSON.stringify({ op: "call", id: ++id, actorType: "Visits", actorId: "home", method: "hit" }),
        );
      ws.on("message", (data) => {
        const frame = JSON.parse(String(data));
        if (frame.op === "welcome" || frame.op === "result") send();
        else if (frame.op === "error") resolve(frame.error);
      });
      ws.on("error", reject);
    });
    ws.close();
    log(`websocket: error frame ${refusal.code} ${refusal.status}`);
  } finally {
    await gateway.close();
    await gatewayMesh.close();
    await host.drain();
    await hostMesh.close();
    admin.close();
    await plane.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = process.env.NATS_URL ? undefined : await startNatsServer({ jetstream: true });
  try {
    await gatewayThrottlingExample(process.env.NATS_URL ?? server?.url ?? "", (line) => console.log(line));
  } finally {
    await server?.cleanup();
  }
}
