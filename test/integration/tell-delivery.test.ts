/**
 * Tells are at-most-once, but never silently lost: a tell that reaches no host (a shard between
 * owners, no host up) is sent again within its deadline, and one that still finds no host is
 * dropped with a warning. Hosts never answer a tell.
 */
import { connect as natsConnect } from "@nats-io/transport-node";
import test, { type ExecutionContext } from "ava";
import { Actor } from "troupe";
import { actorTypeOf } from "../../runtime/actor/actor-type.js";
import { MAX_PENDING_TELL_RESENDS } from "../../runtime/mesh.js";
import { shardOf } from "../../runtime/placement/shard.js";
import { recordingLogger } from "../helpers/logger.js";
import { eventually, startMesh } from "../helpers/mesh.js";
import { Counter, sleep } from "./fixtures.js";

/**
 * A mesh where a host registered Counter and left: the type is known, nobody serves it. `client`
 * sends the tells and records what it logs.
 */
async function counterWithoutHost(t: ExecutionContext) {
  const { mesh, connectAnother } = await startMesh(t);
  await (await (await connectAnother()).host([Counter])).drain();
  const log = recordingLogger();
  const client = await connectAnother({ logger: log.logger });
  return { mesh, client, log };
}

test("tell delivery - a tell sent while no host serves its actor runs once a host does", async (t) => {
  const { mesh, client, log } = await counterWithoutHost(t);
  // Its deadline covers starting a host on a busy machine (which takes seconds there).
  const TELL_MS = 60_000;
  client.ref(Counter, "late", { timeoutMs: TELL_MS }).tell.increment(5);
  // The broker found no host: the tell waits to be sent again.
  await eventually(() => client.pendingTellResends > 0, 10_000, "the tell waiting for a host");
  await mesh.host([Counter]);
  await eventually(async () => (await mesh.ref(Counter, "late").get()) === 5, TELL_MS, "the tell ran");
  // Nothing is left to resend that could run it a second time.
  await eventually(() => client.pendingTellResends === 0, TELL_MS, "no resend pending");
  t.is(await mesh.ref(Counter, "late").get(), 5, "it ran once");
  t.deepEqual(log.at("warn", "error"), []);
});

test("tell delivery - a tell that finds no host within its deadline is dropped with a warning", async (t) => {
  const { client, log } = await counterWithoutHost(t);
  client.ref(Counter, "nobody", { timeoutMs: 400 }).tell.increment(1);
  await eventually(() => log.at("warn").length > 0, 10_000, "a warning");
  const [warning] = log.at("warn");
  t.is(warning?.msg, "tell dropped");
  t.is(
    warning?.fields?.subject,
    client.subjects.rpc("Counter", shardOf("nobody", actorTypeOf(Counter).shards)),
  );
  t.is((warning?.fields?.err as { code?: string } | undefined)?.code, "TROUPE_ACTOR_UNAVAILABLE");
});

test("tell delivery - a tell waiting for a host is sent again with a call's backoff, not in a tight loop", async (t) => {
  const { client, log } = await counterWithoutHost(t);
  const transport = client.transport;
  const publishOneWay = transport.publishOneWay.bind(transport);
  let sends = 0;
  transport.publishOneWay = (...args) => {
    sends++;
    return publishOneWay(...args);
  };
  const TELL_MS = 6000;
  client.ref(Counter, "patient", { timeoutMs: TELL_MS }).tell.increment(1);
  await eventually(() => log.at("warn").length > 0, 5 * TELL_MS, "the tell dropped at its deadline");
  // 10-20, 20-40, 40-80, 80-160, 160-320, then 250-500 ms between sends (resending as soon as the
  // broker answers made ~190 in 3 s). The most the shortest pauses allow within the deadline is the
  // bound; a busy machine only makes fewer sends, so the floor is "sent again at least once".
  let most = 1;
  for (let elapsed = 0, attempt = 0; ; attempt++) {
    elapsed += Math.min(500, 20 * 2 ** attempt) / 2;
    if (elapsed > TELL_MS) break;
    most++;
  }
  t.true(sends >= 2 && sends <= most, `${sends} sends (at most ${most})`);
});

test("tell delivery - a flood of tells to a type without a host keeps a bounded number waiting, and warns", async (t) => {
  const { client, log } = await counterWithoutHost(t);
  let most = 0;
  const sampler = setInterval(() => {
    most = Math.max(most, client.pendingTellResends);
  }, 5);
  t.teardown(() => clearInterval(sampler));
  // Past the resend ring (1,024) and the resend cap (1,024), in bursts the broker answers between.
  for (let burst = 0; burst < 6; burst++) {
    for (let i = 0; i < 1000; i++)
      client.ref(Counter, `flood-${burst}-${i}`, { timeoutMs: 1500 }).tell.increment(1);
    await sleep(20);
  }
  await eventually(() => client.pendingTellResends === 0, 20_000, "every tell resent or dropped");
  t.true(most > 0, "tells waited for a host");
  t.true(most <= MAX_PENDING_TELL_RESENDS, `at most ${MAX_PENDING_TELL_RESENDS} waited (saw ${most})`);
  const warnings = log.at("warn");
  t.true(warnings.length >= 1 && warnings.every((w) => w.msg === "tell dropped"));
  t.true(warnings.length < 20, "rate-limited");
});

class NeverHosted extends Actor {
  ping(): void {}
}

test("tell delivery - a tell to a type no host ever served is dropped with a warning saying so", async (t) => {
  const log = recordingLogger();
  const { mesh } = await startMesh(t, { logger: log.logger });
  mesh.ref(NeverHosted, "x").tell.ping();
  await eventually(() => log.at("warn").length > 0, 10_000, "a warning");
  t.is((log.at("warn")[0]?.fields?.err as { code?: string } | undefined)?.code, "TROUPE_UNKNOWN_ACTOR_TYPE");
});

test("tell delivery - hosts never answer tells, and only unserved ones hear from the broker", async (t) => {
  const { url, mesh, connectAnother } = await startMesh(t);
  await mesh.host([Counter]);
  const client = await connectAnother();
  const observer = await natsConnect({ servers: url });
  t.teardown(() => observer.close());
  let answers = 0;
  observer.subscribe("_INBOX.*.>", {
    callback: (_err, msg) => {
      if (/\.t\d+$/.test(msg.subject)) answers++;
    },
  });
  await observer.flush();
  const counter = client.ref(Counter, "quiet");
  for (let i = 0; i < 50; i++) counter.tell.increment(1);
  await eventually(async () => (await counter.get()) === 50, 10_000, "fifty tells");
  await observer.flush();
  t.is(answers, 0);
});
