/**
 * Throttling at the gateway: with `throttling` the gateway's own enforcer (shares from a real
 * control plane over loopback gRPC, token auth) refuses calls over a policy before anything is sent
 * to NATS: 429 + Retry-After + RateLimit headers; another principal is unaffected. The planner
 * splits each limit among gateways apart from hosts.
 */
import test from "ava";
import type { Policy } from "troupe/internal";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { planShares } from "../../services/control-plane/share-planner.js";
import { startPlane, TOKEN, unary, waitFor } from "../control-plane/helpers.js";
import { AUTH, http, OTHER_KEY, startGatewayFixture } from "./helpers.js";
import { type Frame, openWs } from "./ws-client.js";

test("gateway throttling - calls over the principal's limit are refused at the edge with 429 and never reach the mesh", async (t) => {
  const { plane } = await startPlane(t);
  const connection = connectControlPlane({ address: plane.address, token: TOKEN });
  const policy = {
    name: "alice-greets",
    match: { callers: ["alice"], actorTypes: ["Greeter"] },
    limit: { ratePerSecond: 2, burst: 2 },
  };
  await unary(connection.throttle.SetPolicy.bind(connection.throttle), { policy }, connection.metadata());
  connection.close();
  const { gatewayUrl, gatewayMesh, gateway } = await startGatewayFixture(t, {
    throttling: { controlPlane: plane.address, token: TOKEN },
  });
  await waitFor(() => (gateway.enforcer?.policies().length ?? 0) === 1, 20_000, "the gateway's first shares");
  let sent = 0;
  const callByName = gatewayMesh.callByName.bind(gatewayMesh);
  gatewayMesh.callByName = (...args) => {
    sent += 1;
    return callByName(...args);
  };
  const statuses: number[] = [];
  let refusal: Awaited<ReturnType<typeof http>> | undefined;
  // The burst is 2 and the rate 2/s: a few quick calls in a row must meet a refusal.
  for (let i = 0; i < 20 && !refusal; i++) {
    const res = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
      body: ["ada"],
      headers: AUTH,
    });
    statuses.push(res.status);
    if (res.status === 429) refusal = res;
  }
  t.truthy(refusal, `a refusal within 20 calls (${statuses.join(",")})`);
  t.is(refusal?.json.code, "TROUPE_THROTTLED");
  t.true(Number(refusal?.headers.get("retry-after")) >= 1, "Retry-After in whole seconds");
  t.regex(refusal?.headers.get("ratelimit-policy") ?? "", /^"alice-greets";q=2/);
  t.regex(refusal?.headers.get("ratelimit") ?? "", /^"alice-greets";r=0;t=\d+/);
  t.is(sent, statuses.filter((s) => s === 200).length, "refused requests were never sent to the mesh");
  t.deepEqual(
    statuses.filter((s) => s !== 200 && s !== 429),
    [],
  );
  const bob = await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/hello", {
    body: ["bob"],
    headers: { "x-api-key": OTHER_KEY },
  });
  t.is(bob.status, 200, "another principal is not under alice's policy");
  t.true((gateway.enforcer?.counters().get("alice-greets")?.refused ?? 0) >= 1);
});

test("gateway throttling - the planner splits each limit among gateways apart from hosts", (t) => {
  const policy = {
    name: "p",
    match: { callers: [], tenants: [], actorTypes: [], methods: [], hops: [], users: [] },
    limit: { ratePerSecond: 100, burst: 100, maxConcurrency: 0 },
    keyBy: "KEY_BY_NONE",
    keyFunction: "",
    description: "",
    revision: 0,
  } as Policy;
  const view = (hostId: string, role: "host" | "gateway") => ({
    hostId,
    role,
    demand: () => ({ rate: 80, concurrency: 0 }),
    entries: () => [{ policy: "p", key: "", rate: 80, concurrency: 0 }],
  });
  const plan = planShares([policy], [view("h1", "host"), view("h2", "host"), view("gw1", "gateway")]);
  const rate = (id: string): number => Number(plan.get(id)?.[0]?.keys?.[0]?.share?.ratePerSecond ?? 0);
  t.is(rate("h1") + rate("h2"), 100, "the hosts share the whole limit");
  t.is(rate("gw1"), 100, "the one gateway has the whole limit to itself");
});

test("gateway throttling - WebSocket call frames over the principal's limit get TROUPE_THROTTLED error frames, never sent", async (t) => {
  const { plane } = await startPlane(t);
  const connection = connectControlPlane({ address: plane.address, token: TOKEN });
  const policy = {
    name: "alice-ws",
    match: { callers: ["alice"], actorTypes: ["Greeter"] },
    limit: { ratePerSecond: 2, burst: 2 },
  };
  await unary(connection.throttle.SetPolicy.bind(connection.throttle), { policy }, connection.metadata());
  connection.close();
  const { gatewayUrl, gatewayMesh, gateway } = await startGatewayFixture(t, {
    throttling: { controlPlane: plane.address, token: TOKEN },
  });
  await waitFor(() => (gateway.enforcer?.policies().length ?? 0) === 1, 20_000, "the gateway's first shares");
  let sent = 0;
  const callByName = gatewayMesh.callByName.bind(gatewayMesh);
  gatewayMesh.callByName = (...args) => {
    sent += 1;
    return callByName(...args);
  };
  const alice = await openWs(t, gatewayUrl, AUTH);
  const answers: Frame[] = [];
  let refusal: Frame | undefined;
  for (let i = 0; i < 20 && !refusal; i++) {
    const answer = await alice.request({
      op: "call",
      id: i,
      actorType: "Greeter",
      actorId: "g1",
      method: "hello",
      args: ["ada"],
    });
    answers.push(answer);
    if (answer.op === "error") refusal = answer;
  }
  t.like(refusal, {
    error: { code: "TROUPE_THROTTLED", status: 429, retryable: true, details: { policy: "alice-ws" } },
  });
  t.true(Number(refusal?.error.details.retryAfterMs) > 0, "the retry hint is in the details");
  t.is(sent, answers.filter((a) => a.op === "result").length, "refused frames were never sent to the mesh");
  const bob = await openWs(t, gatewayUrl, { "x-api-key": OTHER_KEY });
  t.like(
    await bob.request({
      op: "call",
      id: 1,
      actorType: "Greeter",
      actorId: "g1",
      method: "hello",
      args: ["b"],
    }),
    {
      op: "result",
    },
  );
});
