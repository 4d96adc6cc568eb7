/**
 * The local autoscaler while its control plane has no decision to give: stopped, or just
 * restarted and its first round not done (both UNAVAILABLE). It keeps the hosts it runs
 * (fail-static) instead of falling back to its bootstrap count, which drained all but one host
 * every time a control plane restarted. Hosts here are stand-in processes: what is checked is
 * which ones the autoscaler starts and signals.
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { status } from "@grpc/grpc-js";
import test from "ava";
import { LocalAutoscaler } from "../../runtime/cli/local-autoscaler.js";
import { groupDecision } from "../../runtime/cli/scale-decision.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { groupPolicy } from "../../services/control-plane/scaling/index.js";
import { startPlane, TOKEN, waitFor } from "../control-plane/helpers.js";
import { recordingLogger } from "../helpers/logger.js";

let nextPid = 100_000;

/** A host process stand-in: exits 0 when signalled, and remembers the signals. */
function standIn(signals: string[]): ChildProcess {
  const child = new EventEmitter() as EventEmitter & { pid: number; kill(signal?: string): boolean };
  child.pid = nextPid++;
  child.kill = (signal = "SIGTERM") => {
    signals.push(`${child.pid} ${signal}`);
    setImmediate(() => child.emit("exit", 0, null));
    return true;
  };
  return child as unknown as ChildProcess;
}

test("local autoscaler - with its control plane stopped or not yet deciding (UNAVAILABLE) it keeps its hosts; an unknown group (NOT_FOUND) bootstraps one", async (t) => {
  const { plane, start } = await startPlane(t, {
    scaling: { groups: [groupPolicy({ group: "work", minHosts: 2, maxHosts: 4 })] },
  });
  const connection = connectControlPlane({ address: plane.address, token: TOKEN });
  t.teardown(() => connection.close());

  // NOT_FOUND: the control plane does not know the group; the autoscaler's bootstrap count applies.
  t.is(await groupDecision(connection, "nobody"), undefined);

  const signals: string[] = [];
  const { logger, entries } = recordingLogger();
  let rounds = 0;
  const scaler = new LocalAutoscaler({
    group: "work",
    intervalMs: 50,
    bootstrapHosts: 1,
    out: () => {},
    logger,
    decide: () => {
      rounds += 1;
      return groupDecision(connection, "work");
    },
    spawnHost: () => standIn(signals),
  });
  t.teardown(() => scaler.stop());
  scaler.start();
  await waitFor(() => scaler.counts().running === 2, 30_000, "the group's min of 2 hosts");

  await plane.stop();
  const err = await t.throwsAsync(groupDecision(connection, "work"));
  t.is((err as unknown as { code: number }).code, status.UNAVAILABLE);
  await waitFor(
    () => entries.some((e) => e.msg.includes("no decision from the control plane; keeping the hosts")),
    30_000,
    "the autoscaler to notice",
  );
  const after = rounds;
  await waitFor(() => rounds >= after + 10, 30_000, "ten more rounds without a decision");
  t.is(scaler.counts().running, 2, "no host drained while there is no decision");
  t.deepEqual(signals, []);

  // Back (same address): decisions again, still 2, nothing was ever signalled.
  await start();
  const back = rounds;
  await waitFor(() => rounds >= back + 10, 60_000, "rounds with the control plane back");
  t.is(scaler.counts().running, 2);
  t.deepEqual(signals, []);
  await scaler.stop();
  t.is(signals.length, 2, "stop drains both");
});
