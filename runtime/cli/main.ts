/**
 * The `troupe` command line.
 *
 *   troupe dev [entry]                          local mesh hosting the entry's actors
 *   troupe host [entry]                         production host process (needs NATS_URL)
 *   troupe call <Type> <id> <method> [json]     call an actor, print the result as JSON
 *   troupe dlq ls|show|replay|purge             dead-lettered jobs
 *   troupe ls hosts|shards|actors [-o json]     hosts, shard leases, live activations
 *   troupe state get|put|rm <Type> <id>         inspect or repair an actor's stored state
 *   troupe control-plane [options]              the gRPC control plane (throttle policies)
 *   troupe throttle set|ls|rm|status            throttle policies on the control plane
 *   troupe gateway [options]                    the HTTP gateway (services/gateway)
 */
import { readFileSync } from "node:fs";
import { parseArgs as parseCli } from "node:util";
import { TroupeError } from "../errors.js";
import { authCommand } from "./auth.js";
import { call, parseArgs } from "./call.js";
import { controlPlaneCommand } from "./control-plane.js";
import { dev } from "./dev.js";
import { dlq } from "./dlq.js";
import { edgeCommand } from "./edge.js";
import { GATEWAY_USAGE, gatewayCommand } from "./gateway.js";
import { hostCommand } from "./host.js";
import { ls } from "./ls.js";
import { outboxCommand } from "./outbox.js";
import { publishCommand, subsCommand } from "./pubsub.js";
import { scaleCommand } from "./scale.js";
import { state } from "./state.js";
import { throttle } from "./throttle.js";

export const USAGE = `Usage: troupe <command>

Commands:
  dev [entry]                         Start a local mesh hosting the actors exported by entry
                                      (default services/examples/index.ts). Without NATS_URL it
                                      starts its own nats-server with JetStream, and an HTTP
                                      gateway without authentication on --gateway-port (8080).
                                      Its server listens for MQTT on a free port (--mqtt-port);
                                      --leaf <hub-leaf-url> [--domain d] makes it an edge site.
  host [entry]                        Host the entry's actors on the mesh at NATS_URL (production).
                                      Options: --health-port <port> (/healthz, /readyz),
                                      --metrics-port <port> (Prometheus /metrics),
                                      --replicas <n>, --prefix <p>, --control-plane <host:port>
                                      (enforce its throttle policies; TROUPE_CONTROL_PLANE),
                                      --control-token-file <file>, --group <name> (scaling unit;
                                      default: the entry's name), --job-capacity <n>. Drains on SIGTERM.
  call <Type> <id> <method> [json]    Call an actor and print its result as JSON. json is an array
                                      of arguments or a single value. Options: --timeout <ms>
  ls hosts|shards|actors [-o json]    Live hosts, held shard leases, or live activations, as a
                                      table (default) or JSON.
  dlq ls|show|replay|purge            Dead-lettered jobs: list, inspect, replay, purge
                                      (troupe dlq help).
  outbox ls|replay|purge --path <dir> A durable client outbox on this machine (troupe outbox help).
  state get|put|rm <Type> <id>        An actor's stored state: show it as JSON (or why it cannot
                                      be decoded), replace it, delete it (troupe state help).
  publish <topic> <json>              Publish an event (--msg-id ID for dedup, --ephemeral).
  subs ls [-o json]                   Subscriptions (durable consumers) and their backlog;
  subs tail <pattern>                 or watch events (--filter EXPR, --count N).
  control-plane [options]             Run the gRPC control plane (throttle policies, host shares);
                                      needs --token-file / TROUPE_CONTROL_TOKEN or mTLS
                                      (troupe control-plane --help).
  throttle set|ls|rm|status           Throttle policies on the control plane (troupe throttle help).
  scale status|run                    Scaling decisions per host group; the local autoscaler (troupe scale help).
  gateway [options]                   The HTTP gateway in front of the mesh (troupe gateway --help).
  auth gen [--prefix P] [--types A,B]  NATS users with least-privilege permissions per component
                                      (troupe auth help).
  edge link|status <domain>           Hub side of an edge site: source its streams (troupe edge help).
  help                                This text.

Environment: NATS_URL, NATS_CREDS, NATS_TOKEN, NATS_USER/NATS_PASSWORD, NATS_CA/NATS_CERT/NATS_KEY, TROUPE_PREFIX, TROUPE_LOG_LEVEL,
TROUPE_CONTROL_PLANE, TROUPE_CONTROL_TOKEN, TROUPE_CONTROL_TOKEN_FILE.`;

/** The version in package.json: two folders up from the sources, three from dist/. */
function packageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "troupe" && pkg.version) return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  return "unknown";
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "dev": {
        const { positionals, values } = parseCli({
          args: rest,
          allowPositionals: true,
          options: {
            prefix: { type: "string" },
            "gateway-port": { type: "string" },
            leaf: { type: "string" },
            domain: { type: "string" },
            "mqtt-port": { type: "string" },
          },
        });
        await dev({
          ...(positionals[0] ? { entry: positionals[0] } : {}),
          ...(values.prefix ? { prefix: values.prefix } : {}),
          ...(values["gateway-port"] ? { gatewayPort: Number(values["gateway-port"]) } : {}),
          ...(values.leaf ? { leaf: values.leaf, ...(values.domain ? { domain: values.domain } : {}) } : {}),
          ...(values["mqtt-port"] ? { mqttPort: Number(values["mqtt-port"]) } : {}),
        });
        return 0;
      }
      case "host": {
        const { positionals, values } = parseCli({
          args: rest,
          allowPositionals: true,
          options: {
            prefix: { type: "string" },
            "health-port": { type: "string" },
            "metrics-port": { type: "string" },
            replicas: { type: "string" },
            "control-plane": { type: "string" },
            "control-token-file": { type: "string" },
            group: { type: "string" },
            "job-capacity": { type: "string" },
          },
        });
        const healthPort = values["health-port"] ?? process.env.TROUPE_HEALTH_PORT;
        const metricsPort = values["metrics-port"] ?? process.env.TROUPE_METRICS_PORT;
        await hostCommand({
          ...(positionals[0] ? { entry: positionals[0] } : {}),
          ...(values.prefix ? { prefix: values.prefix } : {}),
          ...(healthPort !== undefined ? { healthPort: Number(healthPort) } : {}),
          ...(metricsPort !== undefined ? { metricsPort: Number(metricsPort) } : {}),
          ...(values.replicas ? { replicas: Number(values.replicas) } : {}),
          ...(values["control-plane"] ? { controlPlane: values["control-plane"] } : {}),
          ...(values["control-token-file"] ? { controlTokenFile: values["control-token-file"] } : {}),
          ...(values.group ? { group: values.group } : {}),
          ...(values["job-capacity"] ? { jobCapacity: Number(values["job-capacity"]) } : {}),
        });
        return 0;
      }
      case "auth":
        return await authCommand(rest);
      case "dlq":
        return await dlq(rest);
      case "outbox":
        return await outboxCommand(rest);
      case "state":
        return await state(rest);
      case "gateway":
        if (rest.includes("--help")) {
          process.stdout.write(`${GATEWAY_USAGE}\n`);
          return 0;
        }
        return await gatewayCommand({ argv: rest });
      case "publish":
        return await publishCommand(rest);
      case "edge":
        return await edgeCommand(rest);
      case "subs":
        return await subsCommand(rest);
      case "control-plane":
        return await controlPlaneCommand(rest);
      case "throttle":
        return await throttle(rest);
      case "scale":
        return await scaleCommand(rest);
      case "call": {
        const { positionals, values } = parseCli({
          args: rest,
          allowPositionals: true,
          options: { timeout: { type: "string" } },
        });
        const [type, id, method, json] = positionals;
        if (!type || !id || !method) {
          process.stderr.write(`${USAGE}\n`);
          return 2;
        }
        const result = await call({
          type,
          id,
          method,
          args: parseArgs(json),
          ...(values.timeout ? { timeoutMs: Number(values.timeout) } : {}),
        });
        process.stdout.write(`${JSON.stringify(result ?? null, null, 2)}\n`);
        return 0;
      }
      case "ls": {
        const { positionals, values } = parseCli({
          args: rest,
          allowPositionals: true,
          options: { output: { type: "string", short: "o" } },
        });
        const output = values.output ?? "table";
        if (!positionals[0] || (output !== "json" && output !== "table")) {
          process.stderr.write(`${USAGE}\n`);
          return 2;
        }
        process.stdout.write(`${await ls(positionals[0], output)}\n`);
        return 0;
      }
      case "version":
      case "--version": {
        process.stdout.write(`troupe ${packageVersion()}\n`);
        return 0;
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`troupe: unknown command "${command}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof TroupeError) {
      process.stderr.write(`troupe: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
