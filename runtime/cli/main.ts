/**
 * The `troupe` command line: a table of sub-commands (command.ts), each with its own usage.
 *
 *   troupe <command> [arguments] [options]      troupe help, troupe <command> --help
 *
 * Every wrong invocation prints one line saying what is wrong and that command's usage, and exits
 * 2; a failure prints one line (report.ts) and exits 1; nothing prints a stack trace.
 * Arguments that start with "-" go after "--": `troupe call Inventory tea restock -- -5`.
 *
 * Adding a command: write `runtime/cli/<name>.ts` exporting `<name>Command(argv, io)` and its
 * usage, and add one line to {@link COMMANDS}.
 */
import { AUTH_USAGE, authCommand } from "./auth.js";
import { CALL_USAGE, callCommand } from "./call.js";
import { type CliCommand, type CliIo, processIo } from "./command.js";
import { CONTROL_PLANE_USAGE, controlPlaneCommand } from "./control-plane.js";
import { DEV_USAGE, devCommand } from "./dev.js";
import { DLQ_USAGE, dlq } from "./dlq.js";
import { EDGE_USAGE, edgeCommand } from "./edge.js";
import { GATEWAY_USAGE, gatewayCommand } from "./gateway.js";
import { HOST_USAGE, runHostCommand } from "./host.js";
import { INIT_USAGE, initCommand } from "./init.js";
import { LS_USAGE, lsCommand } from "./ls.js";
import { OUTBOX_USAGE, outboxCommand } from "./outbox.js";
import { PUBLISH_USAGE, publishCommand, SUBS_USAGE, subsCommand } from "./pubsub.js";
import { reportFailure } from "./report.js";
import { SCALE_USAGE, scaleCommand } from "./scale.js";
import { STATE_USAGE, state } from "./state.js";
import { THROTTLE_USAGE, throttle } from "./throttle.js";
import { packageVersion } from "./version.js";

export { exitWhenDone } from "./exit.js";

/** Every sub-command, in the order `troupe help` lists them. One line each. */
export const COMMANDS: readonly CliCommand[] = [
  {
    name: "init",
    summary: "A new project using Troupe: an actor, a client, a test",
    usage: INIT_USAGE,
    run: initCommand,
  },
  {
    name: "dev",
    summary: "Local mesh (own nats-server) hosting an entry's actors",
    usage: DEV_USAGE,
    run: devCommand,
  },
  {
    name: "host",
    summary: "Host an entry's actors on the mesh at NATS_URL (production)",
    usage: HOST_USAGE,
    run: runHostCommand,
  },
  { name: "call", summary: "Call an actor, print its result as JSON", usage: CALL_USAGE, run: callCommand },
  { name: "ls", summary: "Live hosts, shard leases or activations", usage: LS_USAGE, run: lsCommand },
  {
    name: "dlq",
    summary: "Dead-lettered jobs: ls, show, replay, purge",
    usage: DLQ_USAGE,
    run: (argv) => dlq(argv),
  },
  {
    name: "outbox",
    summary: "A durable client outbox on this machine: ls, replay, purge",
    usage: OUTBOX_USAGE,
    run: (argv) => outboxCommand(argv),
  },
  {
    name: "state",
    summary: "An actor's stored state: get, put, rm",
    usage: STATE_USAGE,
    run: (argv) => state(argv),
  },
  { name: "publish", summary: "Publish an event", usage: PUBLISH_USAGE, run: (argv) => publishCommand(argv) },
  {
    name: "subs",
    summary: "Subscriptions and their backlog; tail events",
    usage: SUBS_USAGE,
    run: (argv) => subsCommand(argv),
  },
  {
    name: "control-plane",
    summary: "Run the gRPC control plane",
    usage: CONTROL_PLANE_USAGE,
    run: controlPlaneCommand,
  },
  {
    name: "throttle",
    summary: "Throttle policies on the control plane",
    usage: THROTTLE_USAGE,
    run: (argv) => throttle(argv),
  },
  {
    name: "scale",
    summary: "Scaling decisions per host group; the local autoscaler",
    usage: SCALE_USAGE,
    run: (argv) => scaleCommand(argv),
  },
  {
    name: "gateway",
    summary: "The HTTP gateway in front of the mesh",
    usage: GATEWAY_USAGE,
    run: (argv) => gatewayCommand({ argv }),
  },
  {
    name: "auth",
    summary: "NATS users with least-privilege permissions per component",
    usage: AUTH_USAGE,
    run: (argv) => authCommand(argv),
  },
  {
    name: "edge",
    summary: "Edge sites: link, status (at the hub), site (at the edge)",
    usage: EDGE_USAGE,
    run: (argv) => edgeCommand(argv),
  },
];

/** `troupe help`: one line per command, from {@link COMMANDS}. */
export function overview(commands: readonly CliCommand[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "Usage: troupe <command> [arguments] [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  This text; troupe <command> --help for one command's usage`,
    `  ${"version".padEnd(width)}  Troupe's version`,
    "",
    'An argument that starts with "-" goes after "--": troupe call Inventory tea restock -- -5',
    "Environment: NATS_URL, NATS_CREDS, NATS_TOKEN, NATS_USER/NATS_PASSWORD, NATS_INBOX_PREFIX, NATS_CA/NATS_CERT/NATS_KEY,",
    "TROUPE_PREFIX, TROUPE_LOG_LEVEL, TROUPE_CONTROL_PLANE, TROUPE_CONTROL_TOKEN, TROUPE_CONTROL_TOKEN_FILE.",
  ].join("\n");
}

/** Whether argv asks for help before any "--". */
function asksForHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** Runs `troupe <argv>`; resolves with the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
      io.err(overview());
      return 2;
    case "help":
    case "--help":
    case "-h": {
      const about = COMMANDS.find((c) => c.name === rest[0]);
      io.out(about ? about.usage : overview());
      return 0;
    }
    case "version":
    case "--version":
      io.out(`troupe ${packageVersion()}`);
      return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`troupe: unknown command "${name}"`);
    io.err(overview());
    return 2;
  }
  if (asksForHelp(rest)) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    return reportFailure(err, command, io);
  }
}
