/**
 * Attested caller identity under production auth: a nats-server whose only users are the ones
 * `troupe auth gen` writes (each reads only its own `_INBOX_<user>` inboxes), hosts with
 * `userFromInbox`, and two client applications. A policy on the web client's NATS user holds
 * whatever `clientId` that client claims; another user claiming the web client's name is not under
 * it; interceptors see `ctx.user` beside the self-asserted `ctx.caller`, on calls and tells, on the
 * admission fast path and through the chain. And the limit of that design, pinned down: a client
 * that names another user's inbox prefix gets no answers, but its tells count as that user's.
 */
import test from "ava";
import { Actor, connect, consoleLogger, type InboundInterceptor, ThrottledError } from "troupe";
import { parseCommandArgs } from "../../runtime/cli/args.js";
import { clientUser, inboxPrefixOf, natsUser, renderAuthorization } from "../../runtime/cli/auth.js";
import { HOST_FLAGS, hostOptionsFrom } from "../../runtime/cli/host.js";
import { userInboxPrefix } from "../../runtime/cli/nats-permissions.js";
import type { ThrottlePolicy } from "../../runtime/protos/index.js";
import { connectControlPlane } from "../../runtime/throttling/index.js";
import { startServer } from "../helpers/nats.js";
import { startPlane, TOKEN, unary, waitFor } from "./helpers.js";

class Echo extends Actor {
  static options = { stateless: true };
  async echo(x: unknown) {
    return x;
  }
}

class Who extends Actor {
  async hello() {
    return "hi";
  }
}

const WEB = clientUser("web");
const BATCH = clientUser("batch");
const WEB_POLICY = {
  name: "web-user",
  match: { users: [WEB], actorTypes: ["Echo"] },
  // A refill every 10 s: the six calls below meet an empty bucket even on a slow machine.
  limit: { ratePerSecond: 0.1, burst: 2 },
} satisfies ThrottlePolicy;

test("user identity - a policy on a NATS user holds whatever clientId its client claims; ctx.user is the user the reply inbox names", async (t) => {
  const { plane } = await startPlane(t);
  const api = connectControlPlane({ address: plane.address, token: TOKEN });
  t.teardown(() => api.close());
  await unary(api.throttle.SetPolicy.bind(api.throttle), { policy: WEB_POLICY }, api.metadata());

  const prefix = `uid${process.pid}`;
  const password = (c: string) => `pw-${c}-${process.pid}`;
  const server = await startServer(t, {
    jetstream: true,
    extraConfig: renderAuthorization(
      { prefix, types: ["Echo", "Who"], clients: ["web", "batch"] },
      { password: (c) => JSON.stringify(password(c)) },
    ),
  });
  const logger = consoleLogger("silent");
  const open = async (user: string, pass: string, more: Parameters<typeof connect>[0] = {}) => {
    const mesh = await connect({
      servers: server.url,
      prefix,
      user,
      pass,
      inboxPrefix: userInboxPrefix(user),
      logger,
      defaultTimeoutMs: 30_000,
      ...more,
    });
    t.teardown(() => mesh.close());
    return mesh;
  };
  const asHost = () => open(natsUser("host"), password("host"));
  t.is(inboxPrefixOf("host"), userInboxPrefix(natsUser("host")));

  const throttling = { controlPlane: plane.address, token: TOKEN };
  // Echo's host has only the throttling interceptor: the synchronous admission fast path.
  const echoHost = await (await asHost()).host([Echo], { throttling, userFromInbox: true, jobs: false });
  // Who's host has an interceptor of its own: every turn runs through the chain.
  const seen: string[] = [];
  const record: InboundInterceptor = (ctx, next) => {
    seen.push(`${ctx.kind} ${ctx.user} ${ctx.caller}`);
    return next();
  };
  await (await asHost()).host([Who], {
    throttling,
    userFromInbox: true,
    jobs: false,
    interceptors: [record],
  });
  await waitFor(() => (echoHost.enforcer?.policies().length ?? 0) === 1, 20_000, "the host's shares");

  // Each client claims to be the other: the claim is its `caller`, not its user.
  const web = await open(WEB, password("client-web"), { clientId: "batch", adaptiveRate: false });
  const batch = await open(BATCH, password("client-batch"), { clientId: "web", adaptiveRate: false });

  let webOk = 0;
  let webRefused = 0;
  const started = performance.now();
  for (let i = 0; i < 6; i++) {
    try {
      await web.ref(Echo, `e${i}`).echo(i);
      webOk += 1;
    } catch (err) {
      if (!(err instanceof ThrottledError)) throw err;
      t.is(err.details.policy, WEB_POLICY.name);
      webRefused += 1;
    }
  }
  const elapsedS = (performance.now() - started) / 1000;
  t.log(`web: ${webOk} ok, ${webRefused} refused in ${elapsedS.toFixed(1)} s`);
  // The burst, what refilled while the calls ran, and one token of the host's share granularity.
  const allowance = WEB_POLICY.limit.burst + Math.floor(WEB_POLICY.limit.ratePerSecond * elapsedS) + 1;
  t.true(webOk <= allowance, `at most the burst and its refills got through: ${webOk} of ${allowance}`);
  if (allowance < 6) t.true(webRefused >= 1, "the web user is under its policy whatever clientId it claims");
  for (let i = 0; i < 6; i++) t.is(await batch.ref(Echo, `b${i}`).echo(i), i, "another user is not under it");

  // The limit of the design (docs/patterns/throttling.md, "Who is calling"): a client naming
  // another user's inbox gets no answers (it may not subscribe there) but its tells still run, as
  // that user's: they count against the web user's policy, not batch's.
  const refusedBefore = echoHost.enforcer?.counters().get(WEB_POLICY.name)?.refused ?? 0;
  const allowedBefore = echoHost.enforcer?.counters().get(WEB_POLICY.name)?.allowed ?? 0;
  const forger = await open(BATCH, password("client-batch"), {
    inboxPrefix: userInboxPrefix(WEB),
    adaptiveRate: false,
  });
  for (let i = 0; i < 4; i++) forger.ref(Echo, `f${i}`).tell.echo(i);
  await waitFor(
    () => {
      const c = echoHost.enforcer?.counters().get(WEB_POLICY.name);
      return (c?.refused ?? 0) + (c?.allowed ?? 0) >= refusedBefore + allowedBefore + 4;
    },
    20_000,
    "the forged tells counted against the web user",
  );
  t.pass("a forged inbox prefix spends the named user's quota (documented, not closed)");

  await web.ref(Who, "w").hello();
  web.ref(Who, "w").tell.hello();
  await batch.ref(Who, "w").hello();
  await waitFor(() => seen.length >= 3, 20_000, "three turns on Who");
  // The tell is one-way: it may run after batch's call. ava compares Sets in insertion order.
  t.deepEqual([...seen].sort(), [`call ${BATCH} web`, `call ${WEB} batch`, `tell ${WEB} batch`].sort());
});

test("user identity - troupe host takes the option from --user-from-inbox or TROUPE_USER_FROM_INBOX=1, and is off otherwise", (t) => {
  const parse = (argv: string[]) => {
    const { values, positionals } = parseCommandArgs(argv, HOST_FLAGS, { max: 1 });
    return hostOptionsFrom(values, positionals).userFromInbox;
  };
  const before = process.env.TROUPE_USER_FROM_INBOX;
  try {
    delete process.env.TROUPE_USER_FROM_INBOX;
    t.is(parse([]), undefined);
    t.true(parse(["--user-from-inbox"]));
    process.env.TROUPE_USER_FROM_INBOX = "1";
    t.true(parse([]));
  } finally {
    if (before === undefined) delete process.env.TROUPE_USER_FROM_INBOX;
    else process.env.TROUPE_USER_FROM_INBOX = before;
  }
});
