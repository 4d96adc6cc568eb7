import { connect as netConnect, type Socket } from "node:net";
import test from "ava";
import { AUTH, type HttpReply, http, startGatewayFixture } from "./helpers.js";

const CALL = "/v1/actors/Greeter/g1/echo";

function isProblem(t: import("ava").ExecutionContext, res: HttpReply, status: number, code?: string) {
  t.is(res.status, status);
  t.regex(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  t.is(res.json?.status, status);
  if (code) t.is(res.json?.code, code);
}

test("bad input - invalid JSON, wrong content type, deep JSON and bad msgpack are 4xx problems", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const json = { ...AUTH, "content-type": "application/json" };
  isProblem(
    t,
    await http(gatewayUrl, "POST", CALL, { body: "{not json", headers: json }),
    400,
    "GATEWAY_BAD_REQUEST",
  );
  isProblem(
    t,
    await http(gatewayUrl, "POST", CALL, {
      body: "hello",
      headers: { ...AUTH, "content-type": "text/plain" },
    }),
    415,
    "GATEWAY_UNSUPPORTED_MEDIA_TYPE",
  );
  const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  isProblem(
    t,
    await http(gatewayUrl, "POST", CALL, { body: deep, headers: json }),
    400,
    "GATEWAY_BAD_REQUEST",
  );
  const msgpack = { ...AUTH, "content-type": "application/msgpack" };
  isProblem(t, await http(gatewayUrl, "POST", CALL, { body: new Uint8Array([0xc1]), headers: msgpack }), 400);
  // an ext type the codec refuses (structured clone, 0x70)
  isProblem(
    t,
    await http(gatewayUrl, "POST", CALL, { body: new Uint8Array([0xd4, 0x70, 0x00]), headers: msgpack }),
    400,
  );
  // a proto key is dropped, not applied
  const proto = await http(gatewayUrl, "POST", CALL, {
    body: '[{"__proto__":{"x":1},"a":1}]',
    headers: json,
  });
  t.is(proto.status, 200);
  t.deepEqual(proto.json, { a: 1 });
  t.is((await http(gatewayUrl, "GET", "/healthz")).status, 200);
});

test("bad input - a body over the limit is a 413 problem, declared or streamed", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t, { limits: { maxBodyBytes: 4096 } });
  const big = JSON.stringify(["x".repeat(10_000)]);
  isProblem(
    t,
    await http(gatewayUrl, "POST", CALL, {
      body: big,
      headers: { ...AUTH, "content-type": "application/json" },
    }),
    413,
    "TROUPE_PAYLOAD_TOO_LARGE",
  );
  // chunked, no Content-Length: refused while reading
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(big));
      c.close();
    },
  });
  const res = await fetch(`${gatewayUrl}${CALL}`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json" },
    body: stream,
    duplex: "half",
  } as RequestInit);
  t.is(res.status, 413);
  t.is(((await res.json()) as { code: string }).code, "TROUPE_PAYLOAD_TOO_LARGE");
});

test("bad input - odd path segments and unknown routes are 4xx problems", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  isProblem(t, await http(gatewayUrl, "POST", "/v1/actors/Gree.ter/g1/hello", { headers: AUTH }), 400);
  isProblem(t, await http(gatewayUrl, "POST", "/v1/actors/Greeter/g%00x/hello", { headers: AUTH }), 400);
  isProblem(t, await http(gatewayUrl, "POST", "/v1/actors/Greeter/g1/he-llo", { headers: AUTH }), 400);
  isProblem(t, await http(gatewayUrl, "POST", "/v1/actors/Greeter/%E0%A4%A/hello", { headers: AUTH }), 400);
  const long = await http(gatewayUrl, "POST", `/v1/actors/Greeter/${"x".repeat(3000)}/hello`, {
    headers: AUTH,
  });
  t.true(long.status >= 400 && long.status < 500);
  t.regex(long.headers.get("content-type") ?? "", /^application\/problem\+json/);
  isProblem(
    t,
    await http(gatewayUrl, "GET", "/v1/nothing/here", { headers: AUTH }),
    404,
    "GATEWAY_NOT_FOUND",
  );
  isProblem(t, await http(gatewayUrl, "DELETE", CALL, { headers: AUTH }), 404, "GATEWAY_NOT_FOUND");
  isProblem(t, await http(gatewayUrl, "GET", "/v1/jobs/not a job", { headers: AUTH }), 400);
  isProblem(t, await http(gatewayUrl, "POST", "/v1/events/orders.*", { body: {}, headers: AUTH }), 400);
  isProblem(t, await http(gatewayUrl, "GET", "/v1/events/orders.>.x", { headers: AUTH }), 400);
  isProblem(t, await http(gatewayUrl, "GET", "/v1/events/orders.*?filter=((", { headers: AUTH }), 400);
  t.is((await http(gatewayUrl, "GET", "/healthz")).status, 200);
});

/** Opens a raw connection and writes `head`; resolves with everything the server sends until it closes. */
function rawExchange(url: string, head: string): { socket: Socket; received: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = netConnect(Number(port), hostname);
  socket.write(head);
  const received = new Promise<string>((resolve) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => {
      text += c;
    });
    socket.on("close", () => resolve(text));
    socket.on("error", () => resolve(text));
  });
  return { socket, received };
}

test("bad input - a client that trickles its body gets a 408 problem; one that never ends its headers is cut off", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t, {
    limits: { bodyTimeoutMs: 300, headersTimeoutMs: 300 },
  });
  const body = rawExchange(
    gatewayUrl,
    `POST ${CALL} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n["sl`,
  );
  const bodyReply = await body.received;
  t.regex(bodyReply, /^HTTP\/1\.1 408/);
  t.regex(bodyReply, /GATEWAY_REQUEST_TIMEOUT/);
  // Node's own request timeout (headers + body, from the first byte) answers in the same words.
  const headers = rawExchange(gatewayUrl, `POST ${CALL} HTTP/1.1\r\nHost: x\r\nX-Slow: `);
  const headersReply = await headers.received;
  t.regex(headersReply, /^HTTP\/1\.1 408/);
  t.regex(headersReply, /content-type: application\/problem\+json/);
  t.regex(headersReply, /GATEWAY_REQUEST_TIMEOUT/);
  t.is((await http(gatewayUrl, "GET", "/healthz")).status, 200);
});

test("bad input - a request that is not HTTP, or whose headers are too large, gets a problem body before any route", async (t) => {
  const { gatewayUrl } = await startGatewayFixture(t);
  const garbage = await rawExchange(gatewayUrl, "HELLO THERE\r\n\r\n").received;
  t.regex(garbage, /^HTTP\/1\.1 400/);
  t.regex(garbage, /content-type: application\/problem\+json/);
  t.regex(garbage, /GATEWAY_BAD_REQUEST/);
  t.notRegex(garbage, /\bat \S+ \(/); // no stack trace
  const huge = await rawExchange(
    gatewayUrl,
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`,
  ).received;
  t.regex(huge, /^HTTP\/1\.1 431/);
  t.regex(huge, /GATEWAY_HEADERS_TOO_LARGE/);
  t.is((await http(gatewayUrl, "GET", "/healthz")).status, 200);
});
