import test from "ava";
import {
  ConnectionClosedError,
  ConnectionFailedError,
  connect,
  consoleLogger,
  DeadlineExceededError,
} from "troupe";
import { reservePorts } from "troupe/testing";
import { startServer } from "../helpers/nats.js";
import { Counter } from "./fixtures.js";

const silent = consoleLogger("silent");

test("connection - an unreachable server gives ConnectionFailedError", async (t) => {
  const [port] = await reservePorts(1);
  const err = await t.throwsAsync(connect({ servers: `nats://127.0.0.1:${port}`, logger: silent }), {
    instanceOf: ConnectionFailedError,
  });
  t.regex(err?.message ?? "", new RegExp(`127\\.0\\.0\\.1:${port}`));
  t.true(err?.retryable);
});

test("connection - calls while the server is down time out, and work again after it restarts", async (t) => {
  const server = await startServer(t);
  const mesh = await connect({
    servers: server.url,
    prefix: "conn",
    logger: silent,
    reconnectTimeWaitMs: 100,
  });
  t.teardown(() => mesh.close());
  await mesh.host([Counter]);
  const counter = mesh.ref(Counter, "c");
  t.is(await counter.increment(), 1);
  await server.kill("SIGKILL");
  await t.throwsAsync(counter.with({ timeoutMs: 300 }).increment(), { instanceOf: DeadlineExceededError });
  await server.restart();
  // The connection reconnects by itself; state was persisted in the file store before the crash.
  let value: number | undefined;
  for (let i = 0; i < 100 && value === undefined; i++) {
    value = await counter
      .with({ timeoutMs: 1000 })
      .get()
      .catch(() => undefined);
  }
  t.is(value, 1);
  t.is(await counter.increment(), 2);
});

test("connection - a closed mesh refuses calls with ConnectionClosedError", async (t) => {
  const server = await startServer(t);
  const mesh = await connect({ servers: server.url, prefix: "closed", logger: silent });
  await mesh.host([Counter]);
  await mesh.close();
  await t.throwsAsync(mesh.ref(Counter, "c").increment(), { instanceOf: ConnectionClosedError });
  t.throws(() => mesh.ref(Counter, "c").tell.increment(), { instanceOf: ConnectionClosedError });
});
