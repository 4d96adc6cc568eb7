/** Small pieces shared by the call and the tell paths: outbound headers, their typed errors, backoff. */
import { DeadlineExceededError, OfflineError } from "../errors.js";
import { CALLER_HEADER } from "../messaging/index.js";

/**
 * The headers of an outbound message: the trace context, what interceptors added, the caller.
 * Undefined (no header block on the wire) when there is none of them: the common, cheapest case.
 */
export function headersFor(
  trace: Record<string, string> | undefined,
  added: Record<string, string> | undefined,
  caller: string | undefined,
): Record<string, string> | undefined {
  if (added === undefined && caller === undefined) return trace;
  const out: Record<string, string> = { ...trace, ...added };
  if (caller !== undefined) out[CALLER_HEADER] = caller;
  for (const _ in out) return out;
  return undefined;
}

export function offline(type: string, method: string): OfflineError {
  return new OfflineError(`not connected to NATS: ${type}.${method} needs a reply and was not sent`, {
    details: { actorType: type, method },
  });
}

export function deadlinePassed(type: string, method: string, timeoutMs: number): DeadlineExceededError {
  return new DeadlineExceededError(`deadline of ${timeoutMs} ms passed calling ${type}.${method}`, {
    details: { actorType: type, method, timeoutMs },
  });
}

/** Backoff between "no responders" retries while a shard changes owner: 20, 40, 80... capped at 500 ms, with jitter. */
export function backoffMs(attempt: number): number {
  const base = Math.min(500, 20 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}
