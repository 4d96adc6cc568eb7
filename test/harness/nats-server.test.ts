import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import test from "ava";
import {
  findNatsServer,
  monitorGet,
  NATS_SERVER_INSTALL_HINT,
  NatsServerUnavailableError,
  reservePorts,
  startNatsServer,
} from "troupe/testing";
import { eventually } from "../helpers/mesh.js";
import { startCluster, startServer } from "../helpers/nats.js";

/**
 * Just enough of the NATS client protocol to create a stream and publish without nats.js (the
 * harness must not depend on the client library it is used to test).
 */
class RawNats {
  private buf = Buffer.alloc(0);
  private nextSid = 1;
  private readonly waiting = new Map<string, (payload: string) => void>();
  private infoWaiter: ((info: Record<string, unknown>) => void) | undefined;
  private failed: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    socket.on("error", (err) => {
      this.failed = err;
    });
  }

  static async connect(url: string): Promise<{ nats: RawNats; info: Record<string, unknown> }> {
    const { hostname, port } = new URL(url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    const nats = new RawNats(socket);
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      nats.infoWaiter = resolve;
      socket.once("error", reject);
    });
    socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n');
    return { nats, info };
  }

  /** Publishes with a one-off reply subject and resolves with the reply's payload. */
  request(subject: string, payload: string, timeoutMs = 5_000): Promise<string> {
    if (this.failed) return Promise.reject(this.failed);
    const sid = String(this.nextSid++);
    const inbox = `_INBOX.harness.${sid}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(sid);
        reject(new Error(`no reply to ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(sid, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      const body = Buffer.from(payload);
      this.socket.write(
        `SUB ${inbox} ${sid}\r\nUNSUB ${sid} 1\r\nPUB ${subject} ${inbox} ${body.length}\r\n`,
      );
      this.socket.write(Buffer.concat([body, Buffer.from("\r\n")]));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const eol = this.buf.indexOf("\r\n");
      if (eol < 0) return;
      const line = this.buf.subarray(0, eol).toString();
      const [op, ...args] = line.split(" ");
      if (op === "MSG" || op === "HMSG") {
        // MSG <subject> <sid> [reply] <bytes> | HMSG <subject> <sid> [reply] <hdr bytes> <bytes>
        const total = Number(args[args.length - 1]);
        const headerBytes = op === "HMSG" ? Number(args[args.length - 2]) : 0;
        if (this.buf.length < eol + 2 + total + 2) return;
        const payload = this.buf.subarray(eol + 2 + headerBytes, eol + 2 + total).toString();
        this.buf = this.buf.subarray(eol + 2 + total + 2);
        const sid = args[1] ?? "";
        this.waiting.get(sid)?.(payload);
        this.waiting.delete(sid);
        continue;
      }
      this.buf = this.buf.subarray(eol + 2);
      if (op === "INFO") this.infoWaiter?.(JSON.parse(args.join(" ")));
      else if (op === "PING") this.socket.write("PONG\r\n");
      else if (op === "-ERR") this.failed = new Error(line);
    }
  }
}

/** Creates file-backed stream `name` on `subject` and stores one message in it. */
async function createStreamWithOneMessage(url: string, name: string, subject: string): Promise<void> {
  const { nats } = await RawNats.connect(url);
  try {
    const config = { name, subjects: [subject], storage: "file", num_replicas: 1 };
    const created = JSON.parse(await nats.request(`$JS.API.STREAM.CREATE.${name}`, JSON.stringify(config)));
    if (created.error) throw new Error(`stream create failed: ${JSON.stringify(created.error)}`);
    const ack = JSON.parse(await nats.request(subject, "hello"));
    if (ack.error || ack.seq !== 1) throw new Error(`publish failed: ${JSON.stringify(ack)}`);
  } finally {
    nats.close();
  }
}

function connectError(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err));
  });
}

test("harness - a server starts on a free port other than 4222 and accepts clients and monitoring", async (t) => {
  const server = await startServer(t);
  t.not(server.port, 4222);
  t.is(server.url, `nats://127.0.0.1:${server.port}`);
  t.is(server.state, "running");

  const { nats, info } = await RawNats.connect(server.url);
  nats.close();
  t.is(info.port, server.port);
  t.is(info.jetstream, true);

  const varz = await monitorGet(`${server.monitorUrl}/varz`);
  t.is(varz.status, 200);
  t.is(JSON.parse(varz.body).port, server.port);
});

test("harness - stop() ends the process and frees the port", async (t) => {
  const server = await startServer(t);
  const { pid, port } = server;
  await server.stop();

  t.is(server.state, "exited");
  t.throws(() => process.kill(pid, 0), { code: "ESRCH" });
  t.is((await connectError(port))?.code, "ECONNREFUSED");
  await t.notThrowsAsync(server.stop(), "stop() is idempotent");
});

test("harness - a restarted server keeps its port and its JetStream store", async (t) => {
  const server = await startServer(t);
  await createStreamWithOneMessage(server.url, "S1", "s1.a");
  const { port, pid, monitorUrl } = server;

  await server.restart();

  t.is(server.port, port);
  t.is(server.monitorUrl, monitorUrl);
  t.not(server.pid, pid);
  t.true(existsSync(path.join(server.storeDir, "jetstream", "$G", "streams", "S1")));
  const jsz = await server.jsz({ streams: true });
  const streams = jsz.account_details?.flatMap((a) => a.stream_detail ?? []) ?? [];
  t.deepEqual(
    streams.map((s) => [s.name, s.state.messages]),
    [["S1", 1]],
  );
});

test("harness - a killed server restarts with its store, and SIGSTOP pauses it", async (t) => {
  const server = await startServer(t);
  await createStreamWithOneMessage(server.url, "S2", "s2.a");

  await server.kill("SIGSTOP");
  t.is(server.state, "paused");
  await t.throwsAsync(monitorGet(`${server.monitorUrl}/healthz`, 300), { message: /timed out/ });
  await server.kill("SIGCONT");
  t.is((await monitorGet(`${server.monitorUrl}/healthz`)).status, 200);

  await server.kill();
  t.is(server.state, "exited");
  await server.restart();
  t.is(server.state, "running");
  t.is((await server.jsz()).messages, 1);
});

test("harness - cleanup() removes the temp folder but keeps a caller's folder", async (t) => {
  const own = await startNatsServer();
  await own[Symbol.asyncDispose]();
  t.false(existsSync(own.dir));

  const dir = await mkdtemp(path.join(os.tmpdir(), "troupe-harness-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kept = await startNatsServer({ dir });
  await kept.cleanup();
  t.true(existsSync(path.join(dir, "nats-server.conf")));
  t.true(existsSync(kept.storeDir));
  await t.throwsAsync(kept.restart(), { instanceOf: NatsServerUnavailableError });
});

test("harness - a taken fixed port fails fast with reason address-in-use", async (t) => {
  const [port = 0] = await reservePorts(1);
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  const err = await t.throwsAsync(startNatsServer({ port }), { instanceOf: NatsServerUnavailableError });
  t.is(err?.details.reason, "address-in-use");
  t.regex(err?.message ?? "", /last nats-server log lines/);
});

test("harness - a server that cannot start reports its log lines", async (t) => {
  const err = await t.throwsAsync(startNatsServer({ extraConfig: "this is { not valid" }), {
    instanceOf: NatsServerUnavailableError,
  });
  t.is(err?.details.reason, "exited");
  t.regex(err?.message ?? "", /last nats-server log lines ---\nnats-server: Parse error/);
});

test("harness - a missing nats-server binary gives NatsServerUnavailableError with the install hint", async (t) => {
  const missing = path.join(os.tmpdir(), "troupe-no-such-dir", "nats-server");
  const thrown = t.throws(() => findNatsServer({ NATS_SERVER_BIN: missing, PATH: "" }), {
    instanceOf: NatsServerUnavailableError,
  });
  t.true(thrown?.message.startsWith(NATS_SERVER_INSTALL_HINT));
  t.regex(thrown?.message ?? "", /apt-get install nats-server.*scripts\/bootstrap\.mjs.*NATS_SERVER_BIN/);
  t.is(thrown?.code, "TROUPE_NATS_SERVER_UNAVAILABLE");

  const rejected = await t.throwsAsync(startNatsServer({ bin: missing }), {
    instanceOf: NatsServerUnavailableError,
  });
  t.true(rejected?.message.startsWith(NATS_SERVER_INSTALL_HINT));
});

test("harness - findNatsServer prefers NATS_SERVER_BIN, then PATH", (t) => {
  const real = findNatsServer();
  t.is(findNatsServer({ NATS_SERVER_BIN: real }), real);
  t.is(findNatsServer({ PATH: path.dirname(real) }), path.join(path.dirname(real), "nats-server"));
});

test("harness - a 3-node cluster elects a meta leader, survives losing it and takes it back", async (t) => {
  const cluster = await startCluster(t);
  t.is(cluster.nodes.length, 3);
  t.is(cluster.servers, cluster.urls.join(","));
  t.is(new Set(cluster.nodes.map((n) => n.serverName)).size, 3);
  t.false(cluster.urls.some((u) => u.endsWith(":4222")));

  const leader = await cluster.waitForMetaLeader();
  await leader.kill();
  const next = await cluster.waitForMetaLeader();
  t.not(next.serverName, leader.serverName);

  const routePort = leader.clusterPort;
  await leader.restart();
  t.is(leader.clusterPort, routePort);
  const agreed = await cluster.waitForMetaLeader();
  // The restarted node reports the meta group as it rejoins: wait until it counts all three.
  await eventually(
    async () => (await leader.jsz()).meta_cluster?.cluster_size === 3,
    30_000,
    "the restarted node to see a meta group of three",
  );
  t.is((await leader.jsz()).meta_cluster?.leader, agreed.serverName);
  t.is((await leader.jsz()).meta_cluster?.cluster_size, 3);
});
