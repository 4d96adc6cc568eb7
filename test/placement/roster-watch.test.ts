/**
 * A roster watch that stops delivering without ending (forced here: the first watch withholds
 * every change after a point, as a stalled consumer would) is noticed by the progress check and
 * restarted, so the host sees later joins; a watch that is merely idle is left alone.
 */
import test from "ava";
import { encode } from "../../runtime/messaging/index.js";
import type { HostRecord, MembershipChange } from "../../runtime/placement/host-record.js";
import { Roster } from "../../runtime/placement/roster.js";
import type { KeyValueBucket, KvChange, KvWatch } from "../../runtime/transport/transport.js";
import { recordingLogger } from "../helpers/logger.js";
import { startServer } from "../helpers/nats.js";
import { client, uniquePrefix, waitFor } from "./helpers.js";

const record = (id: string): HostRecord => ({
  id,
  name: id,
  types: ["Cart"],
  status: "serving",
  startedAtMs: Date.now(),
  activations: {},
});

/** The real bucket; its first watch can be made to withhold every later change (`stall()`). */
function stallable(bucket: KeyValueBucket) {
  let stalled = false;
  const counts = { watches: 0, checks: 0 };
  const wrapped: KeyValueBucket = Object.assign(Object.create(bucket) as KeyValueBucket, {
    async watch(options?: { key?: string }): Promise<KvWatch> {
      const inner = await bucket.watch(options);
      const first = ++counts.watches === 1;
      return {
        stop: () => inner.stop(),
        async *[Symbol.asyncIterator](): AsyncIterator<KvChange> {
          for await (const c of inner) if (!(first && stalled)) yield c;
        },
      };
    },
    async lastRevision(): Promise<number> {
      counts.checks++;
      return bucket.lastRevision();
    },
  });
  return { bucket: wrapped, counts, stall: () => (stalled = true) };
}

test("roster - a watch that stops delivering is restarted, an idle one is not", async (t) => {
  const server = await startServer(t);
  const mesh = await client(t, server.url, uniquePrefix());
  const real = await mesh.transport.keyValue(mesh.subjects.membersBucket(), {});
  const { bucket, counts, stall } = stallable(real);
  const log = recordingLogger();
  const seen: MembershipChange[] = [];
  const checkEveryMs = 200;
  const roster = new Roster(
    bucket,
    () => record("h-self"),
    (c) => seen.push(c),
    log.logger,
    50,
    5000,
    checkEveryMs,
  );
  t.teardown(() => roster.stop());
  await roster.start();
  await roster.ready;

  const joined = (id: string) => () => seen.some((c) => c.kind === "joined" && c.host.id === id);
  await real.put("h-b", encode(record("h-b")));
  await waitFor("h-b joined", joined("h-b"));

  // Idle, last entry a delete marker (h-b left): several checks, no restart.
  await real.delete("h-b");
  await waitFor("h-b left", () => seen.some((c) => c.kind === "left" && c.hostId === "h-b"));
  const checks = counts.checks;
  await waitFor("four more progress checks", () => counts.checks >= checks + 4);
  t.is(counts.watches, 1, "an idle watch is not restarted");

  // Stalled: h-c's record never reaches the first watch; the check restarts it.
  stall();
  await real.put("h-c", encode(record("h-c")));
  await waitFor("h-c joined through a restarted watch", joined("h-c"));
  t.is(counts.watches, 2);
  t.true(log.at("warn").some((e) => e.msg === "roster watch stopped delivering; restarting it"));
});
