/**
 * Throttling with the control plane, end to end on one machine: a control plane (with a bearer
 * token), a policy set through its gRPC API, two hosts' enforcers receiving their shares of the
 * cluster-wide limit over the host channel, a refused turn's ThrottledError, and a client whose
 * adaptive rate settles near the limit instead of hammering it.
 *
 * Not wired yet: the enforcers here are called by hand; with the interceptor pipeline they run as
 * an inbound interceptor on every turn (docs/patterns/throttling.md).
 *
 *   node --conditions=troupe-source --import tsx services/examples/throttling/control-plane.ts
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import type { ServiceError } from "@grpc/grpc-js";
import { consoleLogger, type ThrottledError } from "troupe";
import type { ThrottlePolicy } from "troupe/internal";
import { AdaptiveRateLimiter, connectControlPlane, HostChannelClient, LocalEnforcer } from "troupe/internal";
import { startNatsServer } from "troupe/testing";
import { startControlPlane } from "../../control-plane/index.js";

export async function throttlingExample(natsUrl: string, log: (line: string) => void): Promise<void> {
  const logger = consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent");
  const token = randomBytes(24).toString("base64url");
  const plane = await startControlPlane({
    port: 0,
    bind: "127.0.0.1",
    nats: { servers: natsUrl },
    prefix: `example${process.pid}`,
    tokens: [token],
    reportIntervalMs: 250,
    logger,
  });
  const admin = connectControlPlane({ address: plane.address, token });
  const hosts = ["host-1", "host-2"].map((hostId) => {
    const enforcer = new LocalEnforcer(logger);
    const channel = new HostChannelClient({ address: plane.address, token, hostId, enforcer, logger });
    channel.start();
    return { hostId, enforcer, channel };
  });
  try {
    // 1. A cluster-wide limit: each caller of the free tier gets 20 calls/s on Cart, in total.
    const policy: ThrottlePolicy = {
      name: "free-tier",
      match: { callers: ["free-*"], actorTypes: ["Cart"] },
      limit: { ratePerSecond: 20, burst: 20 },
      keyBy: "KEY_BY_CALLER",
    };
    await new Promise<void>((resolve, reject) =>
      admin.throttle.SetPolicy({ policy }, admin.metadata(), (err: ServiceError | null) =>
        err ? reject(err) : resolve(),
      ),
    );
    log(`policy set: ${policy.name}, ${policy.limit?.ratePerSecond}/s per caller, cluster-wide`);

    // 2. Both hosts get their share within a moment (the control plane pushes on every change).
    while (!hosts.every((h) => h.enforcer.policies().includes("free-tier"))) await sleep(20);
    log("both hosts enforce it with their share of the limit");

    // 3. A burst from one caller on host-1: its share admits some, then refuses with a typed error.
    const turn = { caller: "free-42", actorType: "Cart", method: "add", hop: "call" as const };
    let admitted = 0;
    let refusal: ThrottledError | undefined;
    while (!refusal) {
      const decision = hosts[0]?.enforcer.decide(turn);
      if (!decision) break;
      if (decision.allowed) admitted += 1;
      else refusal = decision.error;
    }
    log(
      `host-1 admitted ${admitted} at once, then: ${refusal?.code} (retry after ${refusal?.retryAfterMs} ms)`,
    );
    log(
      `another caller is not affected: ${hosts[0]?.enforcer.decide({ ...turn, caller: "free-7" }).allowed}`,
    );

    // 4. An adaptive client against host-1 for 2 s: it slows down to what it is allowed.
    const limiter = new AdaptiveRateLimiter();
    let sent = 0;
    let refused = 0;
    const until = performance.now() + 2000;
    while (performance.now() < until) {
      await sleep(limiter.acquireDelayMs());
      sent += 1;
      const decision = hosts[0]?.enforcer.decide(turn);
      if (decision?.allowed) limiter.onSuccess();
      else {
        refused += 1;
        limiter.onThrottle();
      }
    }
    log(
      `adaptive client: ${sent} attempts in 2 s, ${refused} refused, pacing at ${Math.round(limiter.rate ?? 0)}/s`,
    );
  } finally {
    await Promise.all(hosts.map((h) => h.channel.stop()));
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
    await throttlingExample(process.env.NATS_URL ?? server?.url ?? "", (line) => console.log(line));
  } finally {
    await server?.cleanup();
  }
}
