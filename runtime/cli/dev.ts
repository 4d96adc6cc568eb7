/**
 * `troupe dev [entry]`: a local mesh in one command. Without `NATS_URL` it starts its own
 * nats-server with JetStream (data under `.troupe/nats`), hosts every actor class the entry module
 * exports, starts an insecure local control plane (throttle policies), prints how to call them, and
 * on Ctrl-C drains and stops cleanly.
 *
 * The entry is imported only for its exported actor classes, after `NATS_URL` and `TROUPE_PREFIX`
 * are set to the dev mesh's (so a `connect()` inside it reaches this mesh, not port 4222); scripts
 * that call actors belong in their own file.
 *
 *   troupe dev --add <entry>   hosts the entry's actors beside a dev mesh already running here
 *   troupe dev --reset         deletes the dev data (.troupe/) first: a fresh JetStream store
 *   troupe dev --autoscale     also runs the local autoscaler against this mesh (dev-autoscale.ts)
 *
 * The flags, usage text and options are in dev-options.ts.
 */
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ActorClass } from "../actor/index.js";
import { actorTypeOf } from "../actor/index.js";
import { edgeLinkDenyList, edgeSite } from "../edge/index.js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import type { Mesh } from "../mesh.js";
import { DEFAULT_PREFIX } from "../messaging/index.js";
import { type NatsServer, reservePorts, startNatsServer } from "../testing/index.js";
import { parseCommandArgs } from "./args.js";
import type { CliIo } from "./command.js";
import {
  type DevAutoscaler,
  devAutoscalePolicy,
  devGroupPolicy,
  startDevAutoscaler,
} from "./dev-autoscale.js";
import { startDevControlPlane } from "./dev-control-plane.js";
import { DEV_FLAGS, type DevOptions, devOptionsFrom } from "./dev-options.js";
import { clearDevState, devDir, readDevState, writeDevState } from "./dev-state.js";
import { startDevGateway } from "./gateway.js";
import { groupFromEntry } from "./group-name.js";
import { whileWaiting } from "./progress.js";
import { type ServeOptions, serveEntry, untilSignal } from "./serve.js";

export const DEFAULT_DEV_ENTRY = "services/examples/index.ts";

export { DEV_FLAGS, DEV_USAGE, type DevOptions, devOptionsFrom } from "./dev-options.js";

/** `troupe dev ...` from the command line; resolves with the exit code once the mesh stopped. */
export async function devCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(argv, DEV_FLAGS, { max: 1, names: "[entry]" });
  await dev({ ...devOptionsFrom(values, positionals), out: (line) => io.out(line), io });
  return 0;
}

export async function dev(options: DevOptions = {}): Promise<void> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const entry = resolve(options.entry ?? DEFAULT_DEV_ENTRY);
  const dir = devDir();

  const running = await readDevState(dir);
  if (options.add) {
    if (!running) {
      throw new ConfigurationError(
        `no dev mesh is running in ${dir}: start one with \`troupe dev\` (or \`npm run dev\`), then add to it`,
      );
    }
    if (options.reset) throw new ConfigurationError("--reset cannot be combined with --add");
    return addToDevMesh(entry, running, options, out);
  }
  if (running) {
    throw new ConfigurationError(
      `a dev mesh is already running from this folder (pid ${running.pid}, ${running.url}): stop it first, or host your actors beside it with \`troupe dev --add ${options.entry ?? "<entry>"}\``,
    );
  }
  if (options.reset) {
    await rm(dir, { recursive: true, force: true });
    out(`troupe: deleted the dev data in ${dir}`);
  }
  const prefix = options.prefix ?? process.env.TROUPE_PREFIX ?? DEFAULT_PREFIX;

  let server: NatsServer | undefined;
  let url = process.env.NATS_URL;
  if (options.leaf && url) {
    throw new ConfigurationError("--leaf makes troupe dev's own nats-server a leaf node: unset NATS_URL");
  }
  if (!url) {
    out("troupe: starting a local nats-server with JetStream (NATS_URL is not set)...");
    const local = await localServerOptions(options, prefix);
    server = await startNatsServer({ dir: join(dir, "nats"), serverName: "troupe-dev", ...local });
    url = server.url;
    out(
      `troupe: MQTT listener on mqtt://127.0.0.1:${local.mqttPort} (topic a/b/c = subject a.b.c; docs/patterns/mqtt-devices.md)`,
    );
    if (options.leaf) {
      out(
        `troupe: leaf node of ${options.leaf}, JetStream domain "${local.jetstreamDomain}" (docs/patterns/edge-sites.md); on the hub run: NATS_URL=<hub> npx troupe edge link ${local.jetstreamDomain}${
          options.devices?.length ? ` --devices ${options.devices.join(",")}` : ""
        }`,
      );
    }
  }
  const servers = url;
  const hubDomain = options.leaf
    ? (options.hubDomain ?? (process.env.TROUPE_HUB_DOMAIN || undefined))
    : undefined;
  if (hubDomain !== undefined) {
    out(
      `troupe: results of jobs enqueued here and events published at the hub come back from its domain "${hubDomain}"`,
    );
  }
  // The entry sees the mesh it is hosted on: a connect() inside it reaches this server.
  const restoreEnv = setMeshEnv(servers, prefix);
  // With --autoscale the dev host and the extra hosts form the entry's group, under its policy.
  const group = options.autoscale ? groupFromEntry(entry) : undefined;
  const controlPlane = await startDevControlPlane(
    servers,
    prefix,
    out,
    undefined,
    group ? { groups: [devGroupPolicy(group, devAutoscalePolicy(options.autoscalePolicy))] } : undefined,
  );
  let served = false;
  try {
    await serveEntry({
      entry,
      connect: { servers, prefix },
      // The dev host enforces the local control plane's policies (`troupe throttle set`).
      ...(controlPlane
        ? { host: { throttling: { controlPlane: controlPlane.address }, ...(group ? { group } : {}) } }
        : {}),
      logger: consoleLogger(),
      serviceName: "troupe-dev",
      ...(hubDomain !== undefined || options.devices?.length
        ? {
            beforeHost: (mesh: Mesh) =>
              edgeSite(mesh, {
                ...(hubDomain !== undefined ? { hubDomain, hubEvents: true } : {}),
                ...(options.devices?.length ? { devices: options.devices } : {}),
              }),
          }
        : {}),
      ...drainProgress(options.io),
      whileServing: async (mesh, _host, classes) => {
        served = true;
        await writeDevState({ url: servers, pid: process.pid, prefix }, dir);
        // Listening for Ctrl-C before saying "ready": a signal sent on that line must drain, not kill.
        const signalled = options.until ?? untilSignal();
        printWelcome(out, servers, server ? join(dir, "nats") : undefined, entry, classes);
        const port = options.gatewayPort ?? Number(process.env.TROUPE_GATEWAY_PORT ?? 8080);
        const gateway = await startDevGateway(mesh, port, consoleLogger("warn"), out);
        const sample = classes[0] ? actorTypeOf(classes[0]) : undefined;
        if (sample) {
          out(
            `  curl -X POST ${gateway.url}/v1/actors/${sample.name}/my-id/${[...sample.handlers][0]} -d '[]' -H 'content-type: application/json'`,
          );
        }
        let autoscaler: DevAutoscaler | undefined;
        try {
          if (group && controlPlane) {
            out(
              `troupe: autoscaling group ${group}: extra \`troupe host\` processes while its job queues have a backlog (docs/patterns/competing-consumers.md)`,
            );
            autoscaler = startDevAutoscaler({
              entry,
              group,
              controlPlane: controlPlane.address,
              natsUrl: servers,
              prefix,
              intervalMs: 1000,
              out,
              logger: consoleLogger(),
            });
          } else if (group) {
            out("troupe: --autoscale needs the control plane, which did not start: not autoscaling");
          }
          await signalled;
        } finally {
          // The extra hosts drain first, while the dev host still serves what they hand back.
          await autoscaler?.stop();
          await gateway.close();
        }
        out("troupe: draining...");
      },
    });
  } finally {
    await clearDevState(dir);
    await controlPlane?.stop();
    if (server) await server.stop();
    restoreEnv();
    // Only after a start: an entry that failed to load is reported once, by the caller.
    if (served) out("troupe: stopped.");
  }
}

/** MQTT on a free port unless one is asked for; with `leaf`, a domain and the link's deny list. */
async function localServerOptions(options: DevOptions, prefix: string) {
  const asked =
    options.mqttPort ?? (process.env.TROUPE_MQTT_PORT ? Number(process.env.TROUPE_MQTT_PORT) : undefined);
  if (asked !== undefined && !(Number.isInteger(asked) && asked > 0 && asked < 65536)) {
    throw new ConfigurationError(`MQTT port must be 1-65535, got ${String(asked)}`);
  }
  // Never 1883 by default: another broker (or a shared nats-server) often listens there.
  const mqttPort = asked ?? ((await reservePorts(1))[0] as number);
  if (!options.leaf) return { mqttPort };
  const jetstreamDomain = options.domain ?? "dev";
  const deny = edgeLinkDenyList(prefix, { devices: options.devices ?? [] });
  return {
    mqttPort,
    jetstreamDomain,
    leafnodes: { remotes: [{ url: options.leaf, denyImports: deny, denyExports: deny }] },
  };
}

/** `--add`: host the entry beside the running dev mesh until Ctrl-C, then drain. */
async function addToDevMesh(
  entry: string,
  running: { url: string; prefix: string },
  options: DevOptions,
  out: (line: string) => void,
): Promise<void> {
  const prefix = options.prefix ?? running.prefix;
  const restoreEnv = setMeshEnv(running.url, prefix);
  try {
    await serveEntry({
      entry,
      connect: { servers: running.url, prefix },
      logger: consoleLogger(),
      serviceName: "troupe-dev-add",
      ...drainProgress(options.io),
      whileServing: async (_mesh, _host, classes) => {
        const signalled = options.until ?? untilSignal();
        out(
          `troupe: hosting ${classes.length} actor type(s) from ${entry} on the dev mesh at ${running.url}:`,
        );
        for (const cls of classes) {
          const t = actorTypeOf(cls);
          out(`  ${t.name}: ${[...t.handlers].join(", ")}${t.initialState ? "  (stateful)" : ""}`);
        }
        out("Press Ctrl-C to drain and stop (the dev mesh keeps running).");
        await signalled;
        out("troupe: draining...");
      },
    });
  } finally {
    restoreEnv();
  }
  out("troupe: stopped.");
}

/** A progress line while the host drains, when there is somewhere to write it. */
function drainProgress(io: CliIo | undefined): Pick<ServeOptions, "whileDraining"> {
  return io
    ? { whileDraining: (drain) => whileWaiting(io, "draining (finishing queued turns, saving state)", drain) }
    : {};
}

/** Sets NATS_URL and TROUPE_PREFIX for the entry; returns what puts the previous values back. */
function setMeshEnv(url: string, prefix: string): () => void {
  const before = { NATS_URL: process.env.NATS_URL, TROUPE_PREFIX: process.env.TROUPE_PREFIX };
  process.env.NATS_URL = url;
  process.env.TROUPE_PREFIX = prefix;
  return () => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function printWelcome(
  out: (line: string) => void,
  url: string,
  dataDir: string | undefined,
  entry: string,
  classes: ActorClass[],
): void {
  out("");
  out(`troupe: dev mesh ready on ${url}${dataDir ? ` (JetStream data in ${dataDir})` : ""}`);
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
}
