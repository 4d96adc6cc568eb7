/**
 * Caller identity on the wire: the `troupe-caller` header. A client sets it from
 * `connect({ clientId })` or a call's `caller` option (the HTTP gateway passes its authenticated
 * principal that way); hosts read it into `InboundContext.caller`. A message without a caller
 * carries no header for it, so an anonymous call costs nothing (see docs/wire-format.md).
 *
 * The value is untrusted on the host: 1-256 printable ASCII characters, or the message is refused.
 */
import { ConfigurationError, MalformedMessageError } from "../errors.js";

export const CALLER_HEADER = "troupe-caller";
export const MAX_CALLER_LENGTH = 256;

const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

function isCaller(value: string): boolean {
  return value.length > 0 && value.length <= MAX_CALLER_LENGTH && PRINTABLE.test(value);
}

/** Checks a caller identity given to `connect()` or a call; throws `ConfigurationError` if unfit. */
export function assertCaller(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !isCaller(value)) {
    throw new ConfigurationError(
      `${where} must be 1-${MAX_CALLER_LENGTH} printable ASCII characters without surrounding spaces`,
      { details: { where } },
    );
  }
  return value;
}

/** The caller a message names, undefined if none; throws `MalformedMessageError` if unfit. */
export function callerOf(headers: { has(k: string): boolean; get(k: string): string } | undefined) {
  if (!headers?.has(CALLER_HEADER)) return undefined;
  const value = headers.get(CALLER_HEADER);
  if (!isCaller(value)) {
    throw new MalformedMessageError(`the ${CALLER_HEADER} header is not a valid caller identity`, {
      details: { header: CALLER_HEADER, length: value.length },
    });
  }
  return value;
}

/**
 * The caller to pass on when a runner delivers a job or event to an actor on another host:
 * the message's own caller, or none if it named an unfit one (the runner's interceptors, if any,
 * refuse such a message before delivery).
 */
export function callerToForward(
  headers: { has(k: string): boolean; get(k: string): string } | undefined,
): string | undefined {
  try {
    return callerOf(headers);
  } catch {
    return undefined;
  }
}
