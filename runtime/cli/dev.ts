/**
 * `troupe dev [entry]`: a local mesh in one command. Without `NATS_URL` it starts its own
 * nats-server with JetStream (data under `.troupe/nats`), hosts every actor class the entry module
 * exports, starts an insecure local control plane (throttle policies), prints how to call them, and
 * on Ctrl-C drains and stops cleanly.
 */
import { join, resolve } from "node:path";
import type { ActorClass } from "../actor/actor-ref.js";
import { actorTypeOf } from "../actor/actor-type.js";
import { edgeLinkDenyList } from "../edge/index.js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import { DEFAULT_PREFIX } from "../messaging/index.js";
import { reservePorts } from "../testing/index.js";
import { type NatsServer, startNatsServer } from "../testing/nats-server.js";
import { startDevControlPlane } from "./dev-control-plane.js";
import { clearDevState, devDir, readDevState, writeDevState } from "./dev-state.js";
import { startDevGateway } from "./gateway.js";
import { serveEntry, untilSignal } from "./serve.js";

export const DEFAULT_DEV_ENTRY = "services/examples/index.ts";

export interface DevOptions {
  entry?: string;
  prefix?: string;
  /** Port of the HTTP gateway (default TROUPE_GATEWAY_PORT or 8080; taken: any free port). */
  gatewayPort?: number;
  /**
   * Make the local nats-server a leaf node of this hub (its leaf-node URL, e.g.
   * `nats-leaf://hub:7422`) with its own JetStream domain: an edge site (docs/patterns/edge-sites.md).
   */
  leaf?: string;
  /** JetStream domain of the local server with `leaf` (default `dev`). */
  domain?: string;
  /** Port of the local server's MQTT listener (default TROUPE_MQTT_PORT, else a free port: never 1883 by default). */
  mqttPort?: number;
  /** Resolves when the mesh should stop (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
  out?: (line: string) => void;
}

export async function dev(options: DevOptions = {}): Promise<void> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const entry = resolve(options.entry ?? DEFAULT_DEV_ENTRY);
  const prefix = options.prefix ?? process.env.TROUPE_PREFIX ?? DEFAULT_PREFIX;
  const dir = devDir();

  const running = await readDevState(dir);
  if (running) {
    throw new ConfigurationError(
      `a dev mesh is already running from this folder (pid ${running.pid}, ${running.url}); stop it first`,
    );
  }

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
        `troupe: leaf node of ${options.leaf}, JetStream domain "${local.jetstreamDomain}" (docs/patterns/edge-sites.md); on the hub run: NATS_URL=<hub> npx troupe edge link ${local.jetstreamDomain}`,
      );
    }
  }
  const servers = url;
  const controlPlane = await startDevControlPlane(servers, prefix, out);
  try {
    await serveEntry({
      entry,
      connect: { servers, prefix },
      // The dev host enforces the local control plane's policies (`troupe throttle set`).
      ...(controlPlane ? { host: { throttling: { controlPlane: controlPlane.address } } } : {}),
      logger: consoleLogger(),
      serviceName: "troupe-dev",
      whileServing: async (mesh, _host, classes) => {
        await writeDevState({ url: servers, pid: process.pid, prefix }, dir);
        printWelcome(out, servers, server ? join(dir, "nats") : undefined, entry, classes);
        const port = options.gatewayPort ?? Number(process.env.TROUPE_GATEWAY_PORT ?? 8080);
        const gateway = await startDevGateway(mesh, port, consoleLogger("warn"), out);
        const sample = classes[0] ? actorTypeOf(classes[0]) : undefined;
        if (sample) {
          out(
            `  curl -X POST ${gateway.url}/v1/actors/${sample.name}/my-id/${[...sample.handlers][0]} -d '[]' -H 'content-type: application/json'`,
          );
        }
        try {
          await (options.until ?? untilSignal());
        } finally {
          await gateway.close();
        }
        out("troupe: draining...");
      },
    });
  } finally {
    await clearDevState(dir);
    await controlPlane?.stop();
    if (server) await server.stop();
    out("troupe: stopped.");
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
  const deny = edgeLinkDenyList(prefix);
  return {
    mqttPort,
    jetstreamDomain,
    leafnodes: { remotes: [{ url: options.leaf, denyImports: deny, denyExports: deny }] },
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
