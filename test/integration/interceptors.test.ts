import test from "ava";
import {
  Actor,
  ConfigurationError,
  type InboundContext,
  type InboundInterceptor,
  InterceptorError,
  type OutboundInterceptor,
  subscribe,
  TerminalError,
} from "troupe";
import { eventually, startMesh } from "../helpers/mesh.js";
import { Counter } from "./fixtures.js";

/** A stateless actor with no state bucket: the quickest turn to intercept. */
class Echo extends Actor {
  static options = { stateless: true };
  /** Turns run, per actor id (tests in this file run at once: each uses its own ids). */
  static ran = new Map<string, number>();
  async echo(x: unknown) {
    Echo.ran.set(this.id, (Echo.ran.get(this.id) ?? 0) + 1);
    return x;
  }
}

class Listener extends Actor {
  static heard: string[] = [];
  @subscribe("greetings.said", { key: (e: { to: string }) => e.to })
  async onGreeting(e: { to: string }) {
    Listener.heard.push(e.to);
  }
}

/** Records every inbound context it sees. */
function recorder(seen: InboundContext[]): InboundInterceptor {
  return function record(ctx, next) {
    seen.push(ctx);
    return next();
  };
}

for (const over of ["nats", "in-process"] as const) {
  test(`interceptors - both chains run in the order given, outermost first (${over})`, async (t) => {
    const log: string[] = [];
    const out =
      (name: string): OutboundInterceptor =>
      async (_ctx, next) => {
        log.push(`${name}>`);
        const value = await next();
        log.push(`<${name}`);
        return value;
      };
    const inb =
      (name: string): InboundInterceptor =>
      async (_ctx, next) => {
        log.push(`${name}>`);
        const value = await next();
        log.push(`<${name}`);
        return value;
      };
    const { mesh, connectAnother } = await startMesh(t);
    const outbound = [out("out1"), out("out2")];
    const inbound = [inb("in1"), inb("in2")];
    if (over === "nats") {
      await mesh.host([Echo], { interceptors: inbound });
      const client = await connectAnother({ interceptors: outbound });
      t.is(await client.ref(Echo, "order-nats").echo(7), 7);
    } else {
      // One connection hosts and calls: the call is delivered without the broker.
      const both = await connectAnother({ interceptors: outbound });
      await both.host([Echo], { interceptors: inbound });
      t.is(await both.ref(Echo, "order-local").echo(7), 7);
    }
    t.deepEqual(log.slice(-8), ["out1>", "out2>", "in1>", "in2>", "<in2", "<in1", "<out2", "<out1"]);
  });
}

test("interceptors - a header added outbound and the caller identity are read inbound", async (t) => {
  const seen: InboundContext[] = [];
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Echo], { interceptors: [recorder(seen)] });
  const tenant: OutboundInterceptor = (ctx, next) => {
    ctx.headers["x-tenant"] = "acme";
    return next();
  };
  const client = await connectAnother({ clientId: "shop-1", interceptors: [tenant] });
  await client.ref(Echo, "e").echo(1);
  await client.ref(Echo, "e").with({ caller: "alice@example.com" }).echo(2);
  const [first, second] = seen;
  t.is(first?.kind, "call");
  t.is(first?.actorType, "Echo");
  t.is(first?.actorId, "e");
  t.is(first?.method, "echo");
  t.is(first?.headers.get("x-tenant"), "acme");
  t.is(first?.headers.get("x-absent"), undefined);
  t.is(first?.caller, "shop-1");
  t.true((first?.deadline ?? 0) > performance.now() - 60_000);
  t.is(second?.caller, "alice@example.com");
});

test("interceptors - an anonymous caller sends no caller, and a tell is intercepted as a tell", async (t) => {
  const seen: InboundContext[] = [];
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Echo], { interceptors: [recorder(seen)] });
  const client = await connectAnother();
  await client.ref(Echo, "e").echo(1);
  client.ref(Echo, "e").tell.echo(2);
  await eventually(() => seen.length === 2, 10_000, "the tell's turn");
  t.is(seen[0]?.caller, undefined);
  t.deepEqual(seen[0]?.headers.keys(), []);
  t.is(seen[1]?.kind, "tell");
});

test("interceptors - an inbound interceptor short-circuits with a typed error and the turn never runs", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  const refuse: InboundInterceptor = (ctx, next) => {
    if (ctx.caller !== "trusted") throw new TerminalError(`caller ${ctx.caller ?? "(none)"} refused`);
    return next();
  };
  await mesh.host([Echo], { interceptors: [refuse] });
  const client = await connectAnother({ clientId: "stranger" });
  const err = await t.throwsAsync(client.ref(Echo, "refused").echo(1), { instanceOf: TerminalError });
  t.is(err?.message, "caller stranger refused");
  t.is(Echo.ran.get("refused"), undefined);
  t.is(await client.ref(Echo, "refused").with({ caller: "trusted" }).echo(3), 3);
  t.is(Echo.ran.get("refused"), 1);
});

test("interceptors - an outbound interceptor short-circuits before anything is sent", async (t) => {
  const { mesh } = await startMesh(t);
  await mesh.host([Echo]);
  const offline: OutboundInterceptor = () => Promise.reject(new TerminalError("offline"));
  const client = await startMesh(t, { interceptors: [offline] });
  await t.throwsAsync(client.mesh.ref(Echo, "unsent").echo(1), {
    instanceOf: TerminalError,
    message: "offline",
  });
  t.is(Echo.ran.get("unsent"), undefined);
});

test("interceptors - a throwing interceptor gives the caller a typed error and the host stays alive", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  let fail = true;
  const flaky: InboundInterceptor = function flaky(_ctx, next) {
    if (fail) throw new Error("bug in an interceptor");
    return next();
  };
  const host = await mesh.host([Echo], { interceptors: [flaky] });
  const client = await connectAnother();
  const err = await t.throwsAsync(client.ref(Echo, "e").echo(1), { instanceOf: InterceptorError });
  t.is(err?.code, "TROUPE_INTERCEPTOR_FAILED");
  t.is(err?.details.interceptor, "flaky");
  // A tell refused the same way is logged on the host, which keeps serving.
  client.ref(Echo, "e").tell.echo(2);
  fail = false;
  t.is(await client.ref(Echo, "e").echo(4), 4);
  t.is(host.status, "serving");

  const broken: OutboundInterceptor = async function broken() {
    throw new Error("client-side bug");
  };
  const other = await connectAnother({ interceptors: [broken] });
  await t.throwsAsync(other.ref(Echo, "e").echo(1), { instanceOf: InterceptorError, message: /broken/ });
});

test("interceptors - calling next() twice is refused with a typed error", async (t) => {
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Echo]);
  const twice: OutboundInterceptor = async (_ctx, next) => {
    await next();
    return next();
  };
  const client = await connectAnother({ interceptors: [twice] });
  await t.throwsAsync(client.ref(Echo, "e").echo(1), { instanceOf: InterceptorError, message: /twice/ });
});

test("interceptors - jobs and events run through the host's chain with their kind and caller", async (t) => {
  const seen: InboundContext[] = [];
  const kinds: string[] = [];
  const stamp: OutboundInterceptor = (ctx, next) => {
    kinds.push(ctx.kind);
    ctx.headers["x-via"] = ctx.kind;
    return next();
  };
  const { mesh, connectAnother } = await startMesh(t);
  await mesh.host([Counter, Listener], { interceptors: [recorder(seen)] });
  const client = await connectAnother({ clientId: "backoffice", interceptors: [stamp] });
  const job = await client.enqueue(Counter, "jobs-1").increment(5);
  t.is(await job.result({ timeoutMs: 30_000 }), 5);
  await client.publish("greetings.said", { to: "bob" });
  await eventually(() => Listener.heard.includes("bob"), 30_000, "the event's turn");
  t.deepEqual(kinds, ["enqueue", "publish"]);
  const jobTurn = seen.find((c) => c.kind === "job");
  t.is(jobTurn?.actorType, "Counter");
  t.is(jobTurn?.actorId, "jobs-1");
  t.is(jobTurn?.method, "increment");
  t.is(jobTurn?.caller, "backoffice");
  t.is(jobTurn?.headers.get("x-via"), "enqueue");
  const eventTurn = seen.find((c) => c.kind === "event");
  t.is(eventTurn?.actorType, "Listener");
  t.is(eventTurn?.actorId, "bob");
  t.is(eventTurn?.caller, "backoffice");
  t.is(eventTurn?.headers.get("x-via"), "publish");
  // The runners' deliveries to their own host are not intercepted a second time as calls.
  t.is(seen.filter((c) => c.kind === "call").length, 0);
});

test("interceptors - an unfit caller identity is refused at connect and per call", async (t) => {
  const { url, mesh } = await startMesh(t);
  await mesh.host([Echo]);
  const { connect } = await import("troupe");
  await t.throwsAsync(connect({ servers: url, clientId: "has\nnewline" }), {
    instanceOf: ConfigurationError,
  });
  await t.throwsAsync(mesh.ref(Echo, "e").with({ caller: "" }).echo(1), { instanceOf: ConfigurationError });
});
