/**
 * `troupe scale status|run`: the control plane's scaling decisions, and the local autoscaler.
 *
 *   troupe scale status [group] [-o json]     per group: current and desired hosts, inputs, reason
 *   troupe scale run [entry] [--group G] [--interval-ms N] [-- host options...]
 *                                             keep G's host processes at the decision on this machine
 *
 * Connection: --address (TROUPE_CONTROL_PLANE, default 127.0.0.1:7233), --token-file
 * (TROUPE_CONTROL_TOKEN / TROUPE_CONTROL_TOKEN_FILE), TLS from TROUPE_CONTROL_CA/_CERT/_KEY. The
 * hosts `run` starts get the same control plane and token (and inherit NATS_URL and the rest of
 * the environment); options after `--` go to every `troupe host`.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { status } from "@grpc/grpc-js";
import { ConfigurationError } from "../errors.js";
import { consoleLogger } from "../log.js";
import type { ScalingDecision__Output } from "../protos/index.js";
import { type ControlPlaneConnection, connectControlPlane } from "../throttling/index.js";
import { DEFAULT_DEV_ENTRY } from "./dev.js";
import { groupFromEntry } from "./group-name.js";
import { LocalAutoscaler } from "./local-autoscaler.js";
import { getDecision, groupDecision, isServiceError, unary } from "./scale-decision.js";
import { untilSignal } from "./serve.js";
import { spawnTroupe } from "./troupe-process.js";

export { spawnTroupe };

export const SCALE_USAGE = `Usage: troupe scale <command>

  status [group] [-o json]          Per host group: current and desired hosts, backlog, rates,
                                    the reason of the decision.
  run [entry] [--group G]           Local autoscaler: start and drain \`troupe host entry --group G\`
      [--interval-ms N]             processes to follow G's decision (default G: from the entry's
      [-- host options]             file name; needs NATS_URL). Options after -- go to each host.

Connection: --address host:port (TROUPE_CONTROL_PLANE), --token-file F (TROUPE_CONTROL_TOKEN,
TROUPE_CONTROL_TOKEN_FILE), TLS: TROUPE_CONTROL_CA/_CERT/_KEY.`;

export interface ScaleIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Resolves when `run` should stop (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
}

const defaultIo: ScaleIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

/** Runs `troupe scale ...`; returns the exit code (2: wrong invocation). */
export async function scaleCommand(argv: string[], io: ScaleIo = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "help" || sub === "--help" || sub === "-h") {
    io.out(SCALE_USAGE);
    return 0;
  }
  const dashDash = rest.indexOf("--");
  const hostArgs = dashDash >= 0 ? rest.slice(dashDash + 1) : [];
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(dashDash >= 0 ? rest.slice(0, dashDash) : rest);
  } catch (err) {
    io.err(`troupe scale: ${(err as Error).message}\n\n${SCALE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (sub !== "status" && sub !== "run") {
    io.err(`troupe scale: ${sub ? `unknown command "${sub}"` : "a command is needed"}\n\n${SCALE_USAGE}`);
    return 2;
  }
  const intervalMs = values["interval-ms"] === undefined ? 1000 : Number(values["interval-ms"]);
  if (!Number.isInteger(intervalMs) || intervalMs < 100) {
    io.err(`troupe scale: --interval-ms must be a whole number >= 100\n\n${SCALE_USAGE}`);
    return 2;
  }
  const connection = connectControlPlane({
    ...(values.address ? { address: values.address } : {}),
    ...(values["token-file"] ? { tokenFile: values["token-file"] } : {}),
  });
  try {
    if (sub === "status") {
      const decisions = positionals[0]
        ? [await getDecision(connection, positionals[0])]
        : (
            await unary<{ decisions: ScalingDecision__Output[] }>((md, cb) =>
              connection.scaling.ListDecisions({}, md, cb),
            )(connection)
          ).decisions;
      io.out(values.output === "json" ? JSON.stringify(decisions, null, 2) : statusTable(decisions));
      return 0;
    }
    const entry = resolve(positionals[0] ?? DEFAULT_DEV_ENTRY);
    if (!existsSync(entry)) throw new ConfigurationError(`troupe scale run: no entry file ${entry}`);
    if (!process.env.NATS_URL)
      throw new ConfigurationError("troupe scale run needs NATS_URL (the hosts' mesh)");
    const group = values.group ?? groupFromEntry(entry);
    await runAutoscaler(connection, {
      entry,
      group,
      intervalMs,
      hostArgs,
      tokenFile: values["token-file"],
      io,
    });
    return 0;
  } catch (err) {
    if (isServiceError(err)) {
      io.err(`troupe: ${status[err.code] ?? err.code}: ${err.details}`);
      return 1;
    }
    throw err;
  } finally {
    connection.close();
  }
}

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      address: { type: "string" },
      "token-file": { type: "string" },
      group: { type: "string" },
      "interval-ms": { type: "string" },
    },
  });
}

interface RunOptions {
  entry: string;
  group: string;
  intervalMs: number;
  hostArgs: string[];
  tokenFile: string | undefined;
  io: ScaleIo;
}

async function runAutoscaler(connection: ControlPlaneConnection, options: RunOptions): Promise<void> {
  const logger = consoleLogger();
  const scaler = new LocalAutoscaler({
    group: options.group,
    intervalMs: options.intervalMs,
    out: options.io.out,
    logger,
    decide: () => groupDecision(connection, options.group),
    spawnHost: () =>
      spawnTroupe(
        [
          "host",
          options.entry,
          "--group",
          options.group,
          "--control-plane",
          connection.address,
          ...(options.tokenFile ? ["--control-token-file", options.tokenFile] : []),
          ...options.hostArgs,
        ],
        process.env,
        { detached: true },
      ),
  });
  const signalled = options.io.until ?? untilSignal();
  options.io.out(
    `troupe scale: autoscaling group ${options.group} (${options.entry}); Ctrl-C drains every host`,
  );
  scaler.start();
  await signalled;
  options.io.out("troupe scale: draining the hosts...");
  await scaler.stop();
  const { started } = scaler.counts();
  options.io.out(`troupe scale: stopped (${started} host process(es) started in all)`);
}

function statusTable(decisions: ScalingDecision__Output[]): string {
  if (decisions.length === 0) return "no host groups (configure one on the control plane, or start a host)";
  const rows = decisions.map((d) => [
    d.group,
    `${d.currentHosts}`,
    `${d.desiredHosts}`,
    `${d.minHosts}-${d.maxHosts}`,
    `${d.backlog}`,
    d.arrivalPerSecond.toFixed(1),
    d.completionPerSecond.toFixed(1),
    `${d.oldestWaitSeconds.toFixed(1)}s`,
    d.reason,
  ]);
  const header = ["GROUP", "CURRENT", "DESIRED", "MIN-MAX", "BACKLOG", "IN/S", "DONE/S", "OLDEST", "REASON"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (i < 8 ? (r[i] ?? "").length : 0))),
  );
  const line = (r: string[]) => r.map((c, i) => (i < 8 ? c.padEnd(widths[i] ?? 0) : c)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}
