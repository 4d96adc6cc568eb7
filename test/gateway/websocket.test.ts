/**
 * The gateway's WebSocket (`/v1/ws`): a real gateway and host on a real nats-server, real
 * WebSocket clients (ws). Authentication at the upgrade, calls and subscriptions on one socket,
 * error frames, limits, backpressure, keepalive and drain.
 */
import test from "ava";
import { consoleLogger, type Logger } from "troupe";
import { blobsServed, latchedWaiting, releaseLatched } from "./fixtures/actors.js";
import { AUTH, http, OTHER_KEY, startGatewayFixture } from "./helpers.js";
import { type Frame, openWs, refusedUpgrade } from "./ws-client.js";

test("websocket - an upgrade without credentials is a 401 problem and no socket", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const none = await refusedUpgrade(gatewayUrl, {});
  t.is(none.status, 401);
  t.is(none.body.code, "GATEWAY_UNAUTHENTICATED");
  t.truthy(none.headers["www-authenticate"]);
  const bad = await refusedUpgrade(gatewayUrl, { authorization: "ApiKey not-a-key-0123456789" });
  t.is(bad.status, 401);
  const plain = await http(gatewayUrl, "GET", "/v1/ws", { headers: AUTH });
  t.is(plain.status, 426);
  t.is(plain.json.code, "GATEWAY_UPGRADE_REQUIRED");
  t.is(plain.headers.get("upgrade"), "websocket");
});

test("websocket - calls and event subscriptions share one authenticated socket", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const c = await openWs(t, gatewayUrl, AUTH);
  t.like(c.frames[0], { op: "welcome", principal: "alice" });
  t.is(c.ws.protocol, "troupe.v1");

  const hello = await c.request({
    op: "call",
    id: "c1",
    actorType: "Greeter",
    actorId: "g1",
    method: "hello",
    args: ["ada"],
  });
  t.deepEqual(hello, { op: "result", id: "c1", result: "hello, ada" });
  t.like(
    await c.request({ op: "call", id: 2, actorType: "Greeter", actorId: "g1", method: "sum", args: [1, 2] }),
    {
      op: "result",
      id: 2,
      result: 3,
    },
  );
  t.like(await c.request({ op: "call", id: "n", actorType: "Greeter", actorId: "g1", method: "nothing" }), {
    result: null,
  });
  const unknown = await c.request({
    op: "call",
    id: "c3",
    actorType: "Greeter",
    actorId: "g1",
    method: "nope",
  });
  t.like(unknown, {
    op: "error",
    id: "c3",
    error: { code: "TROUPE_UNKNOWN_METHOD", status: 404, retryable: false },
  });
  const refused = await c.request({
    op: "call",
    id: "c4",
    actorType: "Greeter",
    actorId: "g1",
    method: "refuse",
    args: ["no"],
  });
  t.like(refused, { op: "error", error: { code: "TROUPE_TERMINAL", status: 422, detail: "refused: no" } });
  const crash = await c.request({
    op: "call",
    id: "c5",
    actorType: "Greeter",
    actorId: "g1",
    method: "crash",
  });
  t.like(crash, { error: { code: "TROUPE_ACTOR_METHOD_FAILED", status: 500 } });
  t.notRegex(JSON.stringify(crash), /hunter2/, "an untyped throw's message stays on the host");
  const deadline = await c.request({
    op: "call",
    id: "c6",
    actorType: "Greeter",
    actorId: "g1",
    method: "sleep",
    args: [5_000],
    timeoutMs: 50,
  });
  t.like(deadline, { error: { code: "TROUPE_DEADLINE_EXCEEDED", status: 504 } });

  t.deepEqual(await c.request({ op: "subscribe", id: "s1", pattern: "orders.*", filter: "total > 10" }), {
    op: "subscribed",
    id: "s1",
  });
  t.like(await c.request({ op: "subscribe", id: "s2", pattern: "barrier.>" }), { op: "subscribed" });
  const publish = (topic: string, event: unknown) =>
    http(gatewayUrl, "POST", `/v1/events/${topic}`, { body: event, headers: AUTH });
  t.is((await publish("orders.created", { n: 1, total: 5 })).status, 202);
  t.is((await publish("payments.done", { n: 2, total: 50 })).status, 202);
  t.is((await publish("orders.created", { n: 3, total: 50 })).status, 202);
  t.is((await publish("orders.cancelled", { n: 4, total: 11 })).status, 202);
  t.is((await publish("barrier.one", { n: 5 })).status, 202);
  await c.next((f) => f.op === "event" && f.id === "s2", "the first barrier");
  t.deepEqual(
    c.frames.filter((f) => f.op === "event" && f.id === "s1"),
    [
      { op: "event", id: "s1", topic: "orders.created", data: { n: 3, total: 50 } },
      { op: "event", id: "s1", topic: "orders.cancelled", data: { n: 4, total: 11 } },
    ],
  );
  // A call answered while the subscription is live: both on the same socket.
  t.like(
    await c.request({ op: "call", id: "c7", actorType: "Counter", actorId: "k", method: "add", args: [2] }),
    {
      result: 2,
    },
  );

  t.deepEqual(await c.request({ op: "unsubscribe", id: "s1" }), { op: "unsubscribed", id: "s1" });
  const mark = c.frames.length;
  t.is((await publish("orders.created", { n: 6, total: 99 })).status, 202);
  t.is((await publish("barrier.two", { n: 7 })).status, 202);
  await c.next((f) => f.op === "event" && f.data?.n === 7, "the second barrier", mark);
  t.false(
    c.frames.slice(mark).some((f) => f.id === "s1" && f.op === "event"),
    "nothing after unsubscribed",
  );
  t.like(await c.request({ op: "unsubscribe", id: "s1" }), {
    op: "error",
    error: { code: "GATEWAY_BAD_REQUEST" },
  });
  t.deepEqual(await c.request({ op: "ping", id: "p" }), { op: "pong", id: "p" });
  c.ws.close(1000);
  t.is((await c.closed).code, 1000);
});

test("websocket - malformed frames get error frames with a stable code and the socket stays open", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const c = await openWs(t, gatewayUrl, AUTH);
  const errorAfter = async (raw: string | Buffer) => {
    const from = c.frames.length;
    c.ws.send(raw);
    return c.next((f) => f.op === "error", `an error for ${String(raw).slice(0, 40)}`, from);
  };
  const deep = `{"op":"call","id":"d","actorType":"Greeter","actorId":"g","method":"echo","args":[${"[".repeat(200)}${"]".repeat(200)}]}`;
  const cases: [string | Buffer, string | number | null][] = [
    ["not json", null],
    ["[1,2]", null],
    ["null", null],
    ['{"op":"call"}', null],
    ['{"id":{},"op":"ping"}', null],
    ['{"id":"a","op":"dance"}', "a"],
    ['{"id":"b","op":"call","actorType":"Gree.ter","actorId":"x","method":"hello"}', "b"],
    ['{"id":"c","op":"call","actorType":"Greeter","actorId":"x","method":"hello","args":"ada"}', "c"],
    ['{"id":"d2","op":"call","actorType":"Greeter","actorId":"x","method":"hello","timeoutMs":-1}', "d2"],
    ['{"id":"e","op":"call","actorType":"Greeter","actorId":"\\u0000","method":"hello"}', "e"],
    [deep, null],
    [Buffer.from([0x82, 0xa1]), null],
  ];
  for (const [raw, id] of cases) {
    const err = await errorAfter(raw);
    t.is(err.id, id, String(raw).slice(0, 60));
    t.is(err.error.code, "GATEWAY_BAD_REQUEST", String(raw).slice(0, 60));
    t.is(err.error.status, 400);
  }
  t.like(await c.request({ op: "subscribe", id: "bad-pattern", pattern: "orders..x" }), {
    op: "error",
    error: { code: "TROUPE_CONFIGURATION", status: 400 },
  });
  t.like(await c.request({ op: "subscribe", id: "bad-filter", pattern: "orders.*", filter: "total >" }), {
    op: "error",
    error: { code: "TROUPE_CONFIGURATION" },
  });
  t.like(
    await c.request({
      op: "call",
      id: "ok",
      actorType: "Greeter",
      actorId: "g",
      method: "hello",
      args: ["x"],
    }),
    {
      result: "hello, x",
    },
  );
  t.is(c.ws.readyState, c.ws.OPEN);
});

test("websocket - a frame over the size limit closes the socket with 1009", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t, { limits: { wsMaxFrameBytes: 1024 } });
  const c = await openWs(t, gatewayUrl, AUTH);
  t.is(c.frames[0]?.limits.maxFrameBytes, 1024);
  c.send({
    op: "call",
    id: "big",
    actorType: "Greeter",
    actorId: "g",
    method: "echo",
    args: ["x".repeat(2000)],
  });
  t.is((await c.closed).code, 1009);
});

test("websocket - calls past the socket's in-flight limit are refused with GATEWAY_SOCKET_LIMIT, nothing sent", async (t) => {
  const { gatewayUrl, gatewayMesh } = await startGatewayFixture(t, { limits: { wsMaxInFlight: 2 } });
  let sent = 0;
  const callByName = gatewayMesh.callByName.bind(gatewayMesh);
  gatewayMesh.callByName = (...args) => {
    sent += 1;
    return callByName(...args);
  };
  const c = await openWs(t, gatewayUrl, AUTH);
  t.teardown(() => releaseLatched("limit-"));
  const held = (id: string) => ({
    op: "call",
    id,
    actorType: "Latched",
    actorId: id,
    method: "wait",
    args: [`limit-${id}`],
  });
  c.send(held("w1"));
  c.send(held("w2"));
  const over = await c.request(held("w3"));
  t.like(over, {
    op: "error",
    id: "w3",
    error: { code: "GATEWAY_SOCKET_LIMIT", status: 429, retryable: true, details: { max: 2 } },
  });
  t.is(sent, 2);
  t.like(await c.request({ op: "ping", id: "p" }), { op: "pong" }, "pings are not calls");
  // The two held calls reach the actor; released, they answer and free their slots.
  await waitUntil(() => latchedWaiting("limit-") === 2, "both held calls at the actor");
  releaseLatched("limit-");
  await c.next((f) => f.id === "w1" && f.op === "result", "w1's result");
  await c.next((f) => f.id === "w2" && f.op === "result", "w2's result");
  t.like(
    await c.request({
      op: "call",
      id: "after",
      actorType: "Greeter",
      actorId: "g",
      method: "hello",
      args: ["y"],
    }),
    {
      result: "hello, y",
    },
  );
});

test("websocket - the socket's principal is the caller and each socket is on its own", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const alice = await openWs(t, gatewayUrl, AUTH);
  const bob = await openWs(t, gatewayUrl, { "x-api-key": OTHER_KEY });
  t.is(alice.frames[0]?.principal, "alice");
  t.is(bob.frames[0]?.principal, "bob");
  // The same frame id on two sockets: each answer goes to its own socket.
  const [a, b] = await Promise.all([
    alice.request({ op: "call", id: 1, actorType: "Greeter", actorId: "g", method: "hello", args: ["a"] }),
    bob.request({ op: "call", id: 1, actorType: "Greeter", actorId: "g", method: "hello", args: ["b"] }),
  ]);
  t.is(a.result, "hello, a");
  t.is(b.result, "hello, b");
});

test.serial(
  "websocket - a slow reader loses events with a dropped notice, then is closed with 4008 when results pile up",
  async (t) => {
    const warnings: string[] = [];
    const logger: Logger = { ...consoleLogger("silent"), warn: (msg: string) => warnings.push(msg) };
    const { gatewayUrl, mesh } = await startGatewayFixture(t, {
      logger,
      limits: { wsEventBufferBytes: 64 * 1024, wsMaxBufferedBytes: 512 * 1024 },
    });
    const c = await openWs(t, gatewayUrl, AUTH);
    t.like(await c.request({ op: "subscribe", id: "s", pattern: "bulk.>" }), { op: "subscribed" });
    const payload = "x".repeat(32 * 1024);
    // The client stops reading: the kernel's buffers fill, then the gateway's queue passes the mark.
    c.ws.pause();
    let published = 0;
    while (!warnings.some((w) => w.includes("dropping events")) && published < 5_000) {
      await mesh.publish(`bulk.${published}`, { i: published, payload });
      published += 1;
    }
    t.true(
      warnings.some((w) => w.includes("dropping events")),
      `dropping after ${published} events`,
    );
    c.ws.resume();
    // A pong is queued behind every frame queued before it: once it arrives the queue is empty,
    // and a last event is delivered (not dropped); every drop before it was announced before it.
    await c.request({ op: "ping", id: "drained" });
    await mesh.publish("bulk.end", { end: true });
    await c.next((f) => f.op === "event" && f.data?.end === true, "the last event");
    const notices = c.frames.filter((f) => f.op === "dropped");
    t.true(notices.length >= 1, "a dropped notice");
    t.true(notices.every((f) => f.id === "s" && f.count >= 1));
    const received = c.frames.filter((f) => f.op === "event").length;
    t.true(received >= 1);
    t.is(
      received + notices.reduce((n, f) => n + f.count, 0),
      published + 1,
      "every event is either delivered or counted in a notice",
    );

    // Results are never dropped: when they pile up past wsMaxBufferedBytes the socket is closed.
    // The kernel's socket buffers on loopback hold tens of MB before the gateway's own queue grows.
    c.ws.pause();
    for (let i = 0; i < 400 && !warnings.some((w) => w.includes("4008")); i++) {
      c.send({
        op: "call",
        id: `big${i}`,
        actorType: "Greeter",
        actorId: "g",
        method: "blob",
        args: [512 * 1024],
      });
      // The next frame once the actor served this one (its result is then on its way out).
      await waitUntil(() => blobsServed() > i, `blob call ${i} served`);
    }
    t.true(
      warnings.some((w) => w.includes("4008")),
      "the gateway closed the slow socket",
    );
    c.ws.resume();
    t.is((await c.closed).code, 4008);
  },
);

test("websocket - a client that stops answering pings is disconnected; one that answers stays", async (t) => {
  // One second: the clients share the test process with the gateway, so a pong must not miss the
  // next ping on a busy machine; the silent client is closed within two intervals.
  const { gatewayUrl } = await startGatewayFixture(t, { limits: { wsKeepaliveMs: 1000 } });
  const live = await openWs(t, gatewayUrl, AUTH);
  let pings = 0;
  live.ws.on("ping", () => {
    pings += 1;
  });
  const mute = await openWs(t, gatewayUrl, AUTH, { autoPong: false });
  const closed = await mute.closed;
  t.is(closed.code, 1006, "terminated, no close handshake");
  await waitUntil(
    () => pings >= 3 || live.ws.readyState !== live.ws.OPEN,
    "three pings on the answering socket",
  );
  t.is(live.ws.readyState, live.ws.OPEN);
  t.like(await live.request({ op: "ping", id: 1 }), { op: "pong" });
});

test("websocket - a socket outlives the HTTP server's header and request timeouts", async (t) => {
  // Node's request timeout is headers + body (400 ms here), checked every 100 ms; two keepalive
  // pings 1 s apart take five times that. The keepalive is not shorter so that a pong from this
  // busy test process is never late for the next ping (that would end the socket for another reason).
  const { gatewayUrl } = await startGatewayFixture(t, {
    limits: { headersTimeoutMs: 200, bodyTimeoutMs: 200, wsKeepaliveMs: 1000 },
  });
  const c = await openWs(t, gatewayUrl, AUTH);
  let pings = 0;
  c.ws.on("ping", () => {
    pings += 1;
  });
  await waitUntil(() => pings >= 2 || c.ws.readyState !== c.ws.OPEN, "two keepalive pings");
  t.is(c.ws.readyState, c.ws.OPEN);
  t.like(await c.request({ op: "ping", id: "still" }), { op: "pong" });
});

test("websocket - on gateway close, calls in flight answer, new work is refused, then the socket closes with 1001", async (t) => {
  const { gatewayUrl, gateway } = await startGatewayFixture(t);
  const c = await openWs(t, gatewayUrl, AUTH);
  t.like(await c.request({ op: "subscribe", id: "s", pattern: "drain.>" }), { op: "subscribed" });
  t.teardown(() => releaseLatched("drain-"));
  c.send({ op: "call", id: "held", actorType: "Latched", actorId: "d1", method: "wait", args: ["drain-d1"] });
  await waitUntil(() => latchedWaiting("drain-") === 1, "the held call at the actor");
  const closing = gateway.close();
  // New calls are refused once the drain started.
  let refusal: Frame | undefined;
  for (let i = 0; !refusal; i++) {
    const answer = await c.request({
      op: "call",
      id: `n${i}`,
      actorType: "Greeter",
      actorId: "g",
      method: "hello",
      args: ["z"],
    });
    if (answer.op === "error") refusal = answer;
  }
  t.like(refusal, { error: { code: "GATEWAY_UNAVAILABLE", status: 503, retryable: true } });
  t.like(await c.request({ op: "subscribe", id: "s2", pattern: "drain.>" }), {
    error: { code: "GATEWAY_UNAVAILABLE" },
  });
  t.is(c.ws.readyState, c.ws.OPEN, "open while a call is in flight");
  releaseLatched("drain-");
  t.like(await c.next((f) => f.id === "held"), { op: "result", result: "released drain-d1" });
  t.deepEqual(await c.closed, { code: 1001, reason: "gateway shutting down" });
  await closing;
});

async function waitUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
