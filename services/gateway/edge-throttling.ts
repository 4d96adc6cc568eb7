/**
 * The gateway's throttling: a {@link LocalEnforcer} fed by a host channel to the control plane
 * (registered with role "gateway", so its shares are split among gateways, not taken from the
 * hosts'), its counters exported as `troupe.throttle.decisions`, and the `throttle` middleware
 * placed right after authentication (the principal is the caller a policy matches).
 *
 * @example
 * ```ts
 * await startGateway({ mesh, auth, throttling: { controlPlane: "cp:7233", tokenFile: "control.token" } });
 * ```
 */
import { randomBytes } from "node:crypto";
import type { HostThrottlingOptions, Logger } from "troupe";
import { HostChannelClient, LocalEnforcer, observeThrottleDecisions } from "troupe/internal";
import { AUTHENTICATE, type Middleware, throttle } from "./middleware/index.js";

export interface EdgeThrottling {
  readonly enforcer: LocalEnforcer;
  /** The middleware list with `throttle` right after the authentication step. */
  middleware(list: readonly Middleware[]): Middleware[];
  stop(): Promise<void>;
}

export function startEdgeThrottling(options: HostThrottlingOptions, logger: Logger): EdgeThrottling {
  const { controlPlane, tenantHeader, keyFunctions, ...credentials } = options;
  const enforcer = new LocalEnforcer(logger, undefined, keyFunctions);
  const channel = new HostChannelClient({
    ...credentials,
    address: controlPlane,
    hostId: `gw-${randomBytes(6).toString("hex")}`,
    role: "gateway",
    enforcer,
    logger,
  });
  // Requests never wait for the control plane: until the first shares every request is admitted.
  channel.start();
  const unobserve = observeThrottleDecisions(enforcer);
  const step = throttle(enforcer, tenantHeader ? { tenantHeader } : {});
  return {
    enforcer,
    middleware(list) {
      const out = [...list];
      out.splice(out.findIndex((m) => m.name === AUTHENTICATE) + 1, 0, step);
      return out;
    },
    async stop() {
      unobserve();
      await channel.stop();
    },
  };
}
