/**
 * The scaling monitor right after it starts: it does not know yet which hosts were running before
 * (they reconnect over the host channel within their backoff's cap), so for a warm-up it decides
 * without publishing, and a known group's decision is UNAVAILABLE (KEDA's HPA and the local
 * autoscaler keep their replicas on it) rather than a count that misses the hosts still on their
 * way back.
 */
import { status } from "@grpc/grpc-js";
import test from "ava";
import { consoleLogger } from "troupe";
import {
  groupPolicy,
  HOST_RECONNECT_CAP_MS,
  type ScalingHostView,
  ScalingMonitor,
} from "../../services/control-plane/scaling/index.js";
import { lookupDecision } from "../../services/control-plane/scaling/scaling-service.js";
import { openTransport } from "../control-plane/helpers.js";
import { startServer } from "../helpers/nats.js";

const INTERVAL_MS = 1000;

test("scaling monitor - after start it holds decisions back while hosts reconnect (UNAVAILABLE), by default for longer than their reconnect cap", async (t) => {
  const server = await startServer(t, { jetstream: true });
  const transport = await openTransport(t, server.url);
  const hosts: ScalingHostView[] = [
    {
      hostId: "h1",
      group: "work",
      actorTypes: ["Work"],
      load: { mailboxDepth: 0, turnsInFlight: 0, cpu: 0, draining: false, jobCapacity: 4 },
      throttledPerSecond: 0,
    },
  ];
  const monitor = (warmUpMs?: number) => {
    const m = new ScalingMonitor({
      transport,
      prefix: "mw",
      intervalMs: INTERVAL_MS,
      hosts: () => hosts,
      groups: [groupPolicy({ group: "configured", minHosts: 2 })],
      logger: consoleLogger("silent"),
      ...(warmUpMs !== undefined ? { warmUpMs } : {}),
    });
    t.teardown(() => m.stop());
    return m;
  };
  const codeOf = (m: ScalingMonitor, group: string) => {
    const found = lookupDecision(m, group);
    return "error" in found ? found.error.code : status.OK;
  };

  // The default warm-up outlasts a host's reconnect backoff (its cap plus a report).
  const byDefault = monitor();
  byDefault.start();
  await byDefault.tick();
  await byDefault.tick();
  t.deepEqual(byDefault.decisions(), []);
  t.is(codeOf(byDefault, "configured"), status.UNAVAILABLE);
  t.is(codeOf(byDefault, "work"), status.UNAVAILABLE, "a group a connected host reports");
  t.is(codeOf(byDefault, "nobody"), status.NOT_FOUND);
  t.true(HOST_RECONNECT_CAP_MS >= 5000);

  // Without a warm-up the first round publishes.
  const at = monitor(0);
  at.start();
  await at.tick();
  t.is(codeOf(at, "configured"), status.OK);
  t.is(at.decision("configured")?.desiredHosts, 2);
  t.is(at.decision("work")?.currentHosts, 1);
});
