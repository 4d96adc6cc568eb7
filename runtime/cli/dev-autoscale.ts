/**
 * `troupe dev --autoscale`: the local autoscaler run against the dev mesh itself. The dev host is
 * one host of the entry's group (not started or stopped by the autoscaler); when the group's job
 * queues have a backlog, the dev control plane's decision rises and extra `troupe host <entry>`
 * processes are started beside it (same NATS, prefix, group and control plane), and drained again
 * once the decision falls. Ctrl-C drains them before the dev host.
 *
 * The extra hosts run in their own process group, so the terminal's Ctrl-C reaches only `troupe
 * dev`, which then SIGTERMs each host once. Their logs go to the same terminal at TROUPE_LOG_LEVEL
 * (default warn); the autoscaler's own lines start with `troupe autoscale:`.
 */
import type { GroupPolicy } from "../../services/control-plane/scaling/index.js";
import { groupPolicy, parseGroupPolicy } from "../../services/control-plane/scaling/index.js";
import { ConfigurationError } from "../errors.js";
import type { Logger } from "../log.js";
import { connectControlPlane } from "../throttling/index.js";
import { UsageError } from "./args.js";
import { LocalAutoscaler } from "./local-autoscaler.js";
import { groupDecision } from "./scale-decision.js";
import { spawnTroupe } from "./troupe-process.js";

/** The dev group's policy unless `--autoscale-policy` says otherwise: small, and quick to scale down. */
export const DEV_AUTOSCALE_POLICY = "min=1,max=4,drain=10s,down=30s";

/**
 * `--autoscale-policy` (the keys of `troupe control-plane --scale-group`, without the group name:
 * `max=4,drain=10s,down=30s`) on top of {@link DEV_AUTOSCALE_POLICY}; a mistake is a UsageError.
 */
export function devAutoscalePolicy(spec: string | undefined): Omit<GroupPolicy, "group"> {
  try {
    const { group: _group, ...policy } = parseGroupPolicy(
      `dev:${DEV_AUTOSCALE_POLICY}${spec ? `,${spec}` : ""}`,
    );
    return policy;
  } catch (err) {
    if (err instanceof ConfigurationError) {
      throw new UsageError(
        `--autoscale-policy: ${err.message.replace(/^scaling group (?:"[^"]*"|\S+): /, "")}`,
      );
    }
    throw err;
  }
}

export interface DevAutoscalerOptions {
  entry: string;
  group: string;
  /** `host:port` of the dev control plane (insecure: no token). */
  controlPlane: string;
  natsUrl: string;
  prefix: string;
  intervalMs: number;
  out(line: string): void;
  logger: Logger;
}

export interface DevAutoscaler {
  /** Stops deciding, drains every extra host, and resolves once all have exited. */
  stop(): Promise<void>;
}

export function startDevAutoscaler(options: DevAutoscalerOptions): DevAutoscaler {
  const connection = connectControlPlane({ address: options.controlPlane });
  const out = (line: string) => options.out(`troupe autoscale: ${line}`);
  const env = {
    ...process.env,
    NATS_URL: options.natsUrl,
    TROUPE_PREFIX: options.prefix,
    TROUPE_LOG_LEVEL: process.env.TROUPE_LOG_LEVEL ?? "warn",
  };
  const scaler = new LocalAutoscaler({
    group: options.group,
    intervalMs: options.intervalMs,
    unmanagedHosts: 1,
    bootstrapHosts: 1,
    out,
    logger: options.logger,
    decide: () => groupDecision(connection, options.group),
    spawnHost: () =>
      spawnTroupe(
        [
          "host",
          options.entry,
          "--group",
          options.group,
          "--prefix",
          options.prefix,
          "--control-plane",
          options.controlPlane,
        ],
        env,
        { detached: true },
      ),
  });
  scaler.start();
  let stopped: Promise<void> | undefined;
  return {
    stop: () => {
      stopped ??= (async () => {
        const { running } = scaler.counts();
        if (running > 0) out(`draining ${running} extra host(s)...`);
        try {
          await scaler.stop();
        } finally {
          connection.close();
        }
        out(`stopped (${scaler.counts().started} extra host(s) started in all)`);
      })();
      return stopped;
    },
  };
}

/** The dev group's policy with its name. */
export function devGroupPolicy(group: string, policy: Omit<GroupPolicy, "group">): GroupPolicy {
  return groupPolicy({ ...policy, group });
}
