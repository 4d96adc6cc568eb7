/** What `mesh.host(types, options)` accepts, and what a host reports about itself. */
import type { ActivationInfo, ActorType } from "../actor/index.js";
import { ConfigurationError } from "../errors.js";
import type { InboundInterceptor } from "../interceptors/index.js";
import type { JobRunnerOptions } from "../jobs/index.js";
import type { PlacementOptions } from "../placement/index.js";
import type { SubscribersOptions } from "../pubsub/index.js";
import type { ReminderRunnerOptions } from "../reminders/index.js";
import type {
  ControlPlaneClientOptions,
  HostChannelClientOptions,
  ThrottleKeyFunction,
} from "../throttling/index.js";

export interface HostOptions {
  /** Largest accepted call payload in bytes; larger ones are refused before decoding. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Replicas of the state buckets (use 3 on a 3-node cluster). Default: the mesh's `replicas`. */
  stateReplicas?: number;
  /** Name shown by `troupe ls` and in leases. Default `<hostname>-<pid>`. */
  name?: string;
  /** Lease, heartbeat and hand-off timings (docs/placement.md). */
  placement?: PlacementOptions;
  /**
   * How often the host tells the caller of each call it is still working on (queued or running)
   * that it is alive, so callers can tell a long call from a dead host (`keepaliveTimeoutMs` of
   * `connect()`, which must be well above this). Default 2 000 ms.
   */
  keepaliveEveryMs?: number;
  /**
   * The durable-job runner of this host's types: its options (capacity per type, attempts, backoff),
   * or `false` for a host that runs no jobs. Default: on, with the defaults of `JobRunnerOptions`.
   */
  jobs?: JobRunnerOptions | false;
  /**
   * The `@subscribe` consumers of this host's types: their options, or `false` for a host that
   * takes no events. Default: on.
   */
  subscriptions?: SubscribersOptions | false;
  /**
   * The durable-reminder runner of this host's types (fires `receiveReminder` turns): its options,
   * or `false` for a host that fires no reminders. Default: on.
   */
  reminders?: ReminderRunnerOptions | false;
  /**
   * Inbound interceptors, outermost first, around every turn this host runs: calls, tells, jobs,
   * events and reminders (see docs/interceptors.md). The built-in `inboundTracing` goes first
   * unless listed here (then it runs where it is listed) or `builtinInterceptors` is false. Turns
   * skip the chain while it has nothing to do (no interceptor of yours, no tracer registered).
   */
  interceptors?: InboundInterceptor[];
  /** Install the built-in inbound interceptors this list does not name (tracing). Default true. */
  builtinInterceptors?: boolean;
  /**
   * Take the NATS user a call's or tell's reply subject names (`_INBOX_<user>.…`) as the turn's
   * attested identity: `ctx.user` for interceptors, `match.users` and `KEY_BY_USER` for throttle
   * policies. Turn it on only where every NATS user connects with its own inbox prefix and may
   * subscribe only under it, as `troupe auth gen` sets up (`troupe host --user-from-inbox`,
   * `TROUPE_USER_FROM_INBOX=1`): elsewhere any client can name any prefix and read the answers.
   * Default false: `ctx.user` is always undefined. What it attests: docs/patterns/throttling.md.
   */
  userFromInbox?: boolean;
  /**
   * Cluster-wide throttling (docs/patterns/throttling.md): the host registers with the control plane
   * at `controlPlane` (`host:port`) under its id, receives its shares of every policy's limits and
   * refuses turns over them with `ThrottledError`, as the outermost inbound interceptor (before any
   * of `interceptors`). Default none: no enforcer, no interceptor, no control-plane connection.
   */
  throttling?: HostThrottlingOptions;
  /**
   * The host group this process belongs to: the deployable unit the control plane's scaling
   * decisions are made for (docs/patterns/competing-consumers.md). Reported over the host channel
   * (so only with `throttling.controlPlane`). Default: the sorted type names joined by "-".
   */
  group?: string;
}

/** Where the host's enforcer gets its shares. Credentials as in `ControlPlaneClientOptions`. */
export interface HostThrottlingOptions
  extends Omit<ControlPlaneClientOptions, "address">,
    Pick<HostChannelClientOptions, "reconnectInitialMs" | "reconnectMaxMs"> {
  /** `host:port` of the control plane. */
  controlPlane: string;
  /** Header naming the tenant of a turn. Default `x-tenant`. */
  tenantHeader?: string;
  /**
   * Key functions by name, for policies with `key_by: KEY_BY_FUNCTION` and `key_function: <name>`
   * (docs/patterns/throttling.md): synchronous, e.g. `{ tier: (t) => t.headers?.get("x-tier") }`.
   */
  keyFunctions?: Readonly<Record<string, ThrottleKeyFunction>>;
}

export type HostStatus = "starting" | "serving" | "draining" | "stopped";

/** One activation as `troupe ls actors` shows it. */
export interface HostedActor extends ActivationInfo {
  readonly type: string;
  readonly shard: number;
}

/** A valid group name: the given one, else derived from the type names. */
export function groupOf(group: string | undefined, types: ActorType[]): string {
  const valid = /^[A-Za-z0-9_-]{1,64}$/;
  if (group !== undefined) {
    if (!valid.test(group)) {
      throw new ConfigurationError(`group must be 1-64 letters, digits, "_" or "-", got "${group}"`);
    }
    return group;
  }
  const derived = types
    .map((t) => t.name)
    .sort()
    .join("-")
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 64);
  return derived || "default";
}
