/**
 * `troupe dev [entry]`: a local mesh in one command. Without `NATS_URL` it starts its own
 * nats-server with JetStream (data under `.troupe/nats`), hosts every actor class the entry module
 * exports, prints how to call them, and on Ctrl-C drains and stops cleanly.
 */
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Actor } from "../actor/actor.js";
import type { ActorClass } from "../actor/actor-ref.js";
import { actorTypeOf } from "../actor/actor-type.js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import { connect } from "../mesh.js";
import { DEFAULT_PREFIX } from "../messaging/subjects.js";
import { type NatsServer, startNatsServer } from "../testing/nats-server.js";
import { clearDevState, devDir, readDevState, writeDevState } from "./dev-state.js";

export const DEFAULT_DEV_ENTRY = "services/examples/index.ts";

export interface DevOptions {
  entry?: string;
  prefix?: string;
  /** Resolves when the mesh should stop (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
  out?: (line: string) => void;
}

export async function dev(options: DevOptions = {}): Promise<void> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger = consoleLogger();
  const entry = resolve(options.entry ?? DEFAULT_DEV_ENTRY);
  const prefix = options.prefix ?? process.env.TROUPE_PREFIX ?? DEFAULT_PREFIX;
  const dir = devDir();

  const running = await readDevState(dir);
  if (running) {
    throw new ConfigurationError(
      `a dev mesh is already running from this folder (pid ${running.pid}, ${running.url}); stop it first`,
    );
  }

  const classes = await loadActorClasses(entry);
  let server: NatsServer | undefined;
  let url = process.env.NATS_URL;
  if (!url) {
    out("troupe: starting a local nats-server with JetStream (NATS_URL is not set)...");
    server = await startNatsServer({ dir: join(dir, "nats"), serverName: "troupe-dev" });
    url = server.url;
  }
  try {
    const mesh = await connect({ servers: url, name: `troupe-dev@${hostname()}`, prefix, logger });
    const host = await mesh.host(classes);
    await writeDevState({ url, pid: process.pid, prefix }, dir);

    out("");
    out(`troupe: dev mesh ready on ${url}${server ? ` (JetStream data in ${join(dir, "nats")})` : ""}`);
    out(`troupe: hosting ${classes.length} actor type(s) from ${entry}:`);
    for (const cls of classes) {
      const t = actorTypeOf(cls);
      out(`  ${t.name}: ${[...t.handlers].join(", ")}${t.initialState ? "  (stateful)" : ""}`);
    }
    const sample = classes[0] ? actorTypeOf(classes[0]) : undefined;
    if (sample) {
      const method = [...sample.handlers][0] ?? "method";
      out("");
      out("Call an actor from another shell:");
      out(`  npm run troupe -- call ${sample.name} my-id ${method} '[]'`);
      out(`  NATS_URL=${url} npx troupe call ${sample.name} my-id ${method} '[]'`);
    }
    out("Press Ctrl-C to drain and stop.");

    await (options.until ?? untilSignal());
    out("troupe: draining...");
    await host.drain();
    await mesh.close();
  } finally {
    await clearDevState(dir);
    if (server) await server.stop();
    out("troupe: stopped.");
  }
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (sig: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolveSignal(sig);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/** Imports `entry` and returns every exported class that extends Actor. */
export async function loadActorClasses(entry: string): Promise<ActorClass[]> {
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  const classes = Object.values(mod).filter(
    (v): v is ActorClass => typeof v === "function" && v.prototype instanceof Actor,
  );
  if (classes.length === 0) throw new ConfigurationError(`${entry} exports no actor classes`);
  return classes;
}
