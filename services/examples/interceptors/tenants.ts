/**
 * Interceptors: a client stamps its tenant on every message it sends (outbound), and the host lets
 * only known callers in and notes every turn it runs (inbound). The caller identity comes from
 * `connect({ clientId })`, or per call from the `caller` option (an HTTP gateway passes its
 * authenticated principal that way).
 *
 *   node --conditions=troupe-source --import tsx services/examples/interceptors/tenants.ts
 */
import { pathToFileURL } from "node:url";
import {
  Actor,
  type ConnectOptions,
  connect,
  consoleLogger,
  type InboundInterceptor,
  type Mesh,
  type OutboundInterceptor,
  TerminalError,
} from "troupe";
import { startNatsServer } from "troupe/testing";

/** Outbound: adds the tenant to the headers of every call, tell, enqueue and publish. */
export function tagTenant(tenant: string): OutboundInterceptor {
  return function tagTenant(ctx, next) {
    ctx.headers["x-tenant"] = tenant;
    return next();
  };
}

/** Inbound: refuses turns from callers not on the list, with a typed error the caller receives. */
export function onlyCallers(allowed: ReadonlySet<string>): InboundInterceptor {
  return function onlyCallers(ctx, next) {
    if (ctx.caller === undefined || !allowed.has(ctx.caller)) {
      throw new TerminalError(`${ctx.caller ?? "an anonymous caller"} may not call ${ctx.actorType}`);
    }
    return next();
  };
}

/** Inbound: notes each turn once it ended, with who asked and for which tenant. */
export function noteTurns(note: (line: string) => void): InboundInterceptor {
  return async function noteTurns(ctx, next) {
    try {
      return await next();
    } finally {
      const tenant = ctx.headers.get("x-tenant") ?? "-";
      note(`${ctx.kind} ${ctx.actorType}.${ctx.method} by ${ctx.caller ?? "?"} for ${tenant}`);
    }
  };
}

export class Ledger extends Actor<{ balance: number }> {
  static initialState = () => ({ balance: 0 });
  async deposit(amount: number): Promise<number> {
    this.state.balance += amount;
    return this.state.balance;
  }
}

/** Hosts Ledger on `mesh` behind the inbound chain; a second connection calls it. */
export async function interceptorsExample(
  mesh: Mesh,
  connectClient: (options: ConnectOptions) => Promise<Mesh>,
  log: (line: string) => void,
): Promise<void> {
  // The first interceptor is the outermost: refused turns are noted too.
  const host = await mesh.host([Ledger], {
    interceptors: [noteTurns(log), onlyCallers(new Set(["shop-web"]))],
  });
  const client = await connectClient({ clientId: "shop-web", interceptors: [tagTenant("acme")] });
  try {
    const account = client.ref(Ledger, "acct-1");
    log(`balance ${await account.deposit(10)}`);
    try {
      await account.with({ caller: "intruder" }).deposit(1_000);
    } catch (err) {
      log(`refused: ${err instanceof TerminalError ? err.message : String(err)}`);
    }
    log(`balance ${await account.deposit(5)}`);
  } finally {
    await client.close();
    await host.drain();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = process.env.NATS_URL ? undefined : await startNatsServer();
  const options: ConnectOptions = {
    servers: process.env.NATS_URL ?? server?.url,
    prefix: `example${process.pid}`,
    logger: consoleLogger(process.env.TROUPE_LOG_LEVEL ? undefined : "silent"),
  };
  const mesh = await connect(options);
  try {
    await interceptorsExample(
      mesh,
      (more) => connect({ ...options, ...more }),
      (l) => console.log(l),
    );
  } finally {
    await mesh.close();
    await server?.cleanup();
  }
}
