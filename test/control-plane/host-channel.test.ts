import type { EventEmitter } from "node:events";
import { credentials, Metadata, makeGenericClientConstructor } from "@grpc/grpc-js";
import test from "ava";
import { ThrottledError } from "../../runtime/errors.js";
import type { ThrottlePolicy, ThrottlePolicy__Output } from "../../runtime/protos/index.js";
import {
  connectControlPlane,
  HostChannelClient,
  LocalEnforcer,
  type ThrottleInput,
} from "../../runtime/throttling/index.js";
import { recordingLogger } from "../helpers/logger.js";
import { startPlane, statusName, TOKEN, unary, waitFor } from "./helpers.js";

const cartLimit: ThrottlePolicy = {
  name: "cart-calls",
  match: { actorTypes: ["Cart"] },
  limit: { ratePerSecond: 100, burst: 100 },
};
const call: ThrottleInput = { actorType: "Cart", method: "add", hop: "call" };

function api(address: string) {
  const connection = connectControlPlane({ address, token: TOKEN });
  const c = connection.throttle;
  return {
    connection,
    set: (policy: ThrottlePolicy) =>
      unary<{ policy: ThrottlePolicy }, ThrottlePolicy__Output>(
        c.SetPolicy.bind(c),
        { policy },
        connection.metadata(),
      ),
    remove: (name: string) =>
      unary<{ name: string }, object>(c.DeletePolicy.bind(c), { name }, connection.metadata()),
    status: () =>
      unary<
        { policy: string },
        {
          hosts: { hostId: string }[];
          policies: {
            policy: string;
            keys: { key: string; shares: { hostId: string; ratePerSecond: number }[] }[];
          }[];
        }
      >(c.GetStatus.bind(c), { policy: "" }, connection.metadata()),
  };
}

function host(address: string, hostId: string) {
  const recorded = recordingLogger();
  const enforcer = new LocalEnforcer(recorded.logger);
  const channel = new HostChannelClient({
    address,
    token: TOKEN,
    hostId,
    actorTypes: ["Cart"],
    enforcer,
    logger: recorded.logger,
    reconnectInitialMs: 50,
    reconnectMaxMs: 400,
  });
  return { enforcer, channel, log: recorded };
}

test("host channel - a policy set through the API reaches a connected host within 2 s", async (t) => {
  const { plane } = await startPlane(t);
  const admin = api(plane.address);
  t.teardown(() => admin.connection.close());
  const h = host(plane.address, "host-a");
  t.teardown(() => h.channel.stop());
  h.channel.start();
  await waitFor(() => h.channel.state === "connected", 10_000, "the host to register");
  t.true(h.enforcer.decide(call).allowed, "no policy yet: allowed");

  await admin.set(cartLimit);
  await waitFor(() => h.enforcer.policies().includes("cart-calls"), 2000, "the policy to reach the host");
  // One host holds the whole limit: 100 admitted at once, the next refused.
  let admitted = 0;
  let refusal: ThrottledError | undefined;
  for (let i = 0; i < 150 && !refusal; i++) {
    const d = h.enforcer.decide(call);
    if (d.allowed) admitted += 1;
    else refusal = d.error;
  }
  t.true(admitted >= 100 && admitted <= 102, `admitted ${admitted}`);
  t.true(refusal instanceof ThrottledError);
  t.is(refusal?.details.policy, "cart-calls");
  t.is(refusal?.details.limit, 100);
  t.true((refusal?.retryAfterMs ?? 0) > 0);
  t.true(h.enforcer.decide({ ...call, actorType: "Inventory" }).allowed, "other types are not limited");

  await admin.remove("cart-calls");
  await waitFor(() => h.enforcer.policies().length === 0, 2000, "the deletion to reach the host");
  t.true(h.enforcer.decide(call).allowed);
});

test("host channel - with the control plane gone the host keeps its shares; restarted, it reconnects", async (t) => {
  const started = await startPlane(t);
  const admin = api(started.plane.address);
  await admin.set(cartLimit);
  admin.connection.close();
  const h = host(started.plane.address, "host-b");
  t.teardown(() => h.channel.stop());
  h.channel.start();
  await waitFor(() => h.enforcer.policies().includes("cart-calls"), 10_000, "the first shares");
  const generation = h.enforcer.sharesGeneration;

  await started.plane.stop();
  await waitFor(
    () => h.channel.state === "disconnected" || h.channel.state === "connecting",
    10_000,
    "the outage",
  );
  t.deepEqual(h.enforcer.policies(), ["cart-calls"], "fail-static: the last shares stay in force");
  // Enforcement goes on: drain the bucket, the next turn is refused.
  let refused = false;
  for (let i = 0; i < 300 && !refused; i++) refused = !h.enforcer.decide(call).allowed;
  t.true(refused, "still enforcing while the control plane is down");
  const outageWarnings = () => h.log.at("warn").filter((e) => /unreachable/.test(e.msg)).length;
  t.is(outageWarnings(), 1);

  const restarted = await started.start();
  t.is(restarted.port, started.plane.port);
  await waitFor(() => h.channel.state === "connected", 15_000, "the host to reconnect");
  await waitFor(
    () => h.enforcer.sharesGeneration >= 1 && h.enforcer.policies().includes("cart-calls"),
    5000,
    "fresh shares",
  );
  t.is(outageWarnings(), 1, "the outage was logged once, not once per retry");
  t.true(h.log.at("info").some((e) => /reachable again/.test(e.msg)));
  t.true(generation >= 1);
});

test("host channel - shares follow demand and sum to the cluster-wide limit", async (t) => {
  const { plane } = await startPlane(t);
  const admin = api(plane.address);
  t.teardown(() => admin.connection.close());
  await admin.set({ name: "per-caller", limit: { ratePerSecond: 40 }, keyBy: "KEY_BY_CALLER" });
  const busy = host(plane.address, "host-busy");
  const quiet = host(plane.address, "host-quiet");
  t.teardown(() => busy.channel.stop());
  t.teardown(() => quiet.channel.stop());
  busy.channel.start();
  quiet.channel.start();
  await waitFor(
    () => busy.enforcer.policies().length === 1 && quiet.enforcer.policies().length === 1,
    10_000,
    "both hosts to get the policy",
  );
  // "alice" calls only on the busy host; its demand is reported and its share grows there.
  const shareOf = (status: Awaited<ReturnType<typeof admin.status>>, hostId: string) =>
    status.policies[0]?.keys.find((k) => k.key === "alice")?.shares.find((s) => s.hostId === hostId)
      ?.ratePerSecond ?? 0;
  let status = await admin.status();
  const deadline = performance.now() + 15_000;
  while (shareOf(status, "host-busy") <= 30 && performance.now() < deadline) {
    for (let i = 0; i < 20; i++) busy.enforcer.decide({ ...call, caller: "alice" });
    await new Promise((r) => setTimeout(r, 50));
    status = await admin.status();
  }
  const busyShare = shareOf(status, "host-busy");
  const quietShare = shareOf(status, "host-quiet");
  t.true(busyShare > 30, `busy host's share ${busyShare}`);
  t.true(quietShare > 0, "the quiet host keeps a little");
  t.true(Math.abs(busyShare + quietShare - 40) < 1e-6, `shares ${busyShare} + ${quietShare} = 40`);
  t.deepEqual(status.hosts.map((h) => h.hostId).sort(), ["host-busy", "host-quiet"]);
});

test("host channel - garbage on the stream ends that stream with a status; the server stays up", async (t) => {
  t.timeout(60_000); // a stream that never ends fails this test, not the whole run
  const { plane } = await startPlane(t);
  const md = new Metadata();
  md.set("authorization", `Bearer ${TOKEN}`);
  // A client that sends raw bytes instead of HostMessages.
  const Raw = makeGenericClientConstructor(
    {
      Connect: {
        path: "/troupe.v1.HostChannel/Connect",
        requestStream: true,
        responseStream: true,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    "RawHostChannel",
  );
  const raw = new Raw(plane.address, credentials.createInsecure()) as unknown as {
    Connect(md: Metadata): NodeJS.ReadWriteStream & { write(b: Buffer): boolean; end(): void };
    close(): void;
  };
  t.teardown(() => raw.close());
  // A call's final status arrives as a 'status' event whatever it is (an OK end included, which
  // has no 'error'), so waiting on it can never hang; 'error' only keeps the stream from throwing.
  const ended = (stream: EventEmitter) =>
    new Promise<{ code: number; details: string }>((resolve) => {
      stream.on("data", () => {});
      stream.on("error", () => {});
      stream.on("status", (status: { code: number; details: string }) => resolve(status));
    });
  const garbage = raw.Connect(md);
  const garbageEnd = ended(garbage);
  garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]));
  const err1 = await garbageEnd;
  t.true(
    ["INTERNAL", "INVALID_ARGUMENT"].includes(statusName(err1.code)),
    `${statusName(err1.code)}: ${err1.details}`,
  );

  // Well-formed but out of order / invalid: typed statuses from the protocol checks.
  const typed = connectControlPlane({ address: plane.address, token: TOKEN });
  t.teardown(() => typed.close());
  const early = typed.hostChannel.Connect(typed.metadata());
  const earlyEnd = ended(early);
  early.write({ usage: { keys: [] } });
  t.is(statusName((await earlyEnd).code), "FAILED_PRECONDITION");
  const badId = typed.hostChannel.Connect(typed.metadata());
  const badIdEnd = ended(badId);
  badId.write({ register: { hostId: "no spaces/allowed" } });
  const err3 = await badIdEnd;
  t.is(statusName(err3.code), "INVALID_ARGUMENT");
  t.regex(err3.details, /host_id/);
  const twice = typed.hostChannel.Connect(typed.metadata());
  const twiceEnd = ended(twice);
  twice.write({ register: { hostId: "h1" } });
  twice.write({ register: { hostId: "h1" } });
  t.is(statusName((await twiceEnd).code), "FAILED_PRECONDITION");
  const unauthenticated = typed.hostChannel.Connect(new Metadata());
  const unauthenticatedEnd = ended(unauthenticated);
  unauthenticated.write({ register: { hostId: "h2" } });
  t.is(statusName((await unauthenticatedEnd).code), "UNAUTHENTICATED");

  const flood = typed.hostChannel.Connect(typed.metadata());
  const floodEnd = ended(flood);
  flood.write({ register: { hostId: "flooder" } });
  // Flood until the server ends the stream: a fixed burst of 30 can reach a starved server spread
  // over more than one report interval (200 ms here) and then never count as a flood.
  let ended4 = false;
  void floodEnd.then(() => {
    ended4 = true;
  });
  for (let i = 0; i < 20_000 && !ended4; i++) {
    flood.write({ usage: { keys: [{ policy: "p", key: "k", allowed: 1 }] } });
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
  const err4 = await floodEnd;
  t.is(statusName(err4.code), "RESOURCE_EXHAUSTED", err4.details);

  // The server is still up: a well-behaved host registers and gets shares.
  const h = host(plane.address, "host-after-garbage");
  t.teardown(() => h.channel.stop());
  h.channel.start();
  await waitFor(() => h.channel.state === "connected", 10_000, "a good host to register");
  t.is(h.channel.state, "connected");
});

test("host channel - two control-plane replicas share policies and demand", async (t) => {
  const first = await startPlane(t, { replicaId: "replica-1" });
  const second = await first.start({ port: 0, replicaId: "replica-2" });
  const admin = api(first.plane.address);
  t.teardown(() => admin.connection.close());
  const a = host(first.plane.address, "host-on-1");
  const b = host(second.address, "host-on-2");
  t.teardown(() => a.channel.stop());
  t.teardown(() => b.channel.stop());
  a.channel.start();
  b.channel.start();
  await waitFor(
    () => a.channel.state === "connected" && b.channel.state === "connected",
    10_000,
    "both hosts",
  );

  // The burst each host was last given for the shared policy.
  const lastBurst = new Map<string, number>();
  for (const [name, h] of [
    ["a", a],
    ["b", b],
  ] as const) {
    const off = h.channel.onShares((shares) => {
      const entry = shares.policies?.find((p) => p.policy?.name === "shared");
      if (entry) lastBurst.set(name, Number(entry.defaultShare?.burst ?? 0));
    });
    t.teardown(off);
  }
  await admin.set({ name: "shared", limit: { ratePerSecond: 60, burst: 60 } });
  await waitFor(
    () => b.enforcer.policies().includes("shared"),
    10_000,
    "the policy set on replica 1 to reach replica 2's host",
  );
  // Once each replica sees the other's host (their demand records travel through KV, on the
  // replicas' own planning rounds), each host holds half of the limit, not all of it. Wait for
  // that split itself rather than a number of rounds: on a starved machine a round can pass before
  // the other replica's record has arrived.
  await waitFor(
    () => (lastBurst.get("a") ?? 60) <= 31 && (lastBurst.get("b") ?? 60) <= 31,
    30_000,
    "each host's share of the burst to be about half",
  );
  const admittedAtOnce = (e: LocalEnforcer) => {
    let n = 0;
    while (n < 1000 && e.decide(call).allowed) n += 1;
    return n;
  };
  const total = admittedAtOnce(a.enforcer) + admittedAtOnce(b.enforcer);
  t.true(total <= 62, `both hosts together admitted ${total} at once (burst 60)`);
  t.true(total >= 50, `both hosts together admitted ${total} at once (burst 60)`);
});
