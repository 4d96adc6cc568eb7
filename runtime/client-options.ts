/**
 * Validation of what users pass to the client API (`connect()`, `mesh.ref()`, `ref.with()`,
 * `mesh.enqueue()`): a value the API cannot honour fails at once, at the caller, with a
 * `ConfigurationError` that names the option, instead of surfacing later as a host's
 * `MalformedMessageError`, a nats.js error, or a timer that fires at once.
 *
 * | option                                    | accepted                                              |
 * | ----------------------------------------- | ----------------------------------------------------- |
 * | `timeoutMs`, `defaultTimeoutMs`, `jetStreamApiTimeoutMs` | a finite number in (0, {@link MAX_TIMEOUT_MS}] |
 * | `keepaliveTimeoutMs`                       | a number > 0 (`Infinity`: never give up on silence)   |
 * | `job.result({ timeoutMs })`                | a number >= 0 (0: look once; `Infinity`: no limit)     |
 * | `retry.maxElapsedMs`                       | a number >= 0 (`Infinity`: no limit)                   |
 * | `replicas`, `queue.replicas`               | an integer in 1..5 (JetStream's limit)                |
 * | counts (`maxAttempts`, `maxJobs`, ...)     | a positive integer                                    |
 * | other durations                            | a finite number in [0, {@link MAX_TIMEOUT_MS}]        |
 * | `key`, `prefix`, `name`, credentials       | a string (`prefix`, type names: one subject token)    |
 * | flags (`localDelivery`, `keepResult`, ...) | a boolean                                             |
 * | actor ids                                  | a string of 1-1024 characters                         |
 *
 * `MAX_TIMEOUT_MS` is the longest delay a Node timer honours (2^31 - 1 ms, about 24.8 days): a
 * longer one fires at once.
 *
 * @example
 * ```ts
 * checkCallOptions({ timeoutMs: Infinity }); // throws ConfigurationError: timeoutMs must be ...
 * ```
 */
import { ConfigurationError } from "./errors.js";
import { assertToken, MAX_ACTOR_ID_LENGTH } from "./messaging/index.js";

/** The longest delay a Node.js timer honours; a longer one fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
/** JetStream's largest replica count. */
export const MAX_REPLICAS = 5;

type Options = Record<string, unknown>;

function refuse(name: string, value: unknown, what: string): ConfigurationError {
  return new ConfigurationError(`${name} must be ${what}, got ${describe(value)}`, {
    details: { option: name },
  });
}

function describe(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return typeof value;
}

/** A deadline: a finite number of ms in (0, MAX_TIMEOUT_MS]. */
export function checkTimeoutMs(name: string, value: unknown): void {
  if (typeof value !== "number" || !(value > 0 && value <= MAX_TIMEOUT_MS)) {
    throw refuse(name, value, `a number of milliseconds in (0, ${MAX_TIMEOUT_MS}]`);
  }
}

/** How long to wait for something (e.g. `job.result()`): ms >= 0 (0: look once); `Infinity` waits for ever. */
export function checkWaitMs(name: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0)) {
    throw refuse(name, value, "a number of milliseconds >= 0 (0: look once; Infinity: no limit)");
  }
}

function optionalTimeout(o: Options, name: string, prefix = ""): void {
  if (o[name] !== undefined) checkTimeoutMs(prefix + name, o[name]);
}

function optionalDuration(o: Options, name: string, prefix = ""): void {
  const v = o[name];
  if (v !== undefined && (typeof v !== "number" || !(v >= 0 && v <= MAX_TIMEOUT_MS))) {
    throw refuse(prefix + name, v, `a number of milliseconds in [0, ${MAX_TIMEOUT_MS}]`);
  }
}

function optionalCount(o: Options, name: string, prefix = ""): void {
  const v = o[name];
  if (v !== undefined && !(typeof v === "number" && Number.isSafeInteger(v) && v >= 1)) {
    throw refuse(prefix + name, v, "a positive integer");
  }
}

function optionalReplicas(o: Options, name: string, prefix = ""): void {
  const v = o[name];
  if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_REPLICAS)) {
    throw refuse(prefix + name, v, `an integer in 1..${MAX_REPLICAS}`);
  }
}

function optionalBoolean(o: Options, name: string, prefix = ""): void {
  const v = o[name];
  if (v !== undefined && typeof v !== "boolean") throw refuse(prefix + name, v, "true or false");
}

function optionalString(o: Options, name: string, prefix = ""): void {
  const v = o[name];
  if (v !== undefined && typeof v !== "string") throw refuse(prefix + name, v, "a string");
}

function optionalObject(o: Options, name: string): Options | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw refuse(name, v, "an object");
  return v as Options;
}

function asOptions(value: unknown, what: string): Options {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw refuse(what, value, "an object");
  }
  return value as Options;
}

/** An actor id: a string of 1 to 1024 characters (what hosts and runners accept). */
export function checkActorId(id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ACTOR_ID_LENGTH) {
    throw refuse("actor id", id, `a string of 1-${MAX_ACTOR_ID_LENGTH} characters`);
  }
}

/** An actor type's wire name: one subject token (what `mesh.host()` accepts). */
export function checkTypeName(name: unknown): asserts name is string {
  if (typeof name !== "string") throw refuse("actor type name", name, "a string");
  assertToken("actor type name", name);
}

/** `connect()`'s options, NATS options included. */
export function checkConnectOptions(options: object | undefined): void {
  const o = asOptions(options, "connect options");
  if (o.prefix !== undefined) {
    if (typeof o.prefix !== "string") throw refuse("prefix", o.prefix, "a string");
    assertToken("subject prefix", o.prefix);
  }
  optionalTimeout(o, "defaultTimeoutMs");
  const keepalive = o.keepaliveTimeoutMs;
  if (keepalive !== undefined && (typeof keepalive !== "number" || !(keepalive > 0))) {
    throw refuse("keepaliveTimeoutMs", keepalive, "a positive number of milliseconds");
  }
  optionalReplicas(o, "replicas");
  optionalBoolean(o, "localDelivery");
  optionalBoolean(o, "adaptiveRate");
  if (o.logger !== undefined) {
    const l = o.logger as Options | null;
    const ok =
      typeof l === "object" &&
      l !== null &&
      ["debug", "info", "warn", "error"].every((m) => typeof l[m] === "function");
    if (!ok) throw refuse("logger", o.logger, "an object with debug, info, warn and error methods");
  }
  const servers = o.servers;
  if (
    servers !== undefined &&
    typeof servers !== "string" &&
    !(Array.isArray(servers) && servers.every((s) => typeof s === "string"))
  ) {
    throw refuse("servers", servers, "a URL string or an array of them");
  }
  for (const name of ["name", "credsFile", "token", "user", "pass"]) optionalString(o, name);
  const tls = optionalObject(o, "tls");
  if (tls) {
    for (const name of ["caFile", "certFile", "keyFile"]) optionalString(tls, name, "tls.");
    optionalBoolean(tls, "handshakeFirst", "tls.");
  }
  const attempts = o.maxReconnectAttempts;
  if (attempts !== undefined && !(Number.isSafeInteger(attempts) && (attempts as number) >= -1)) {
    throw refuse("maxReconnectAttempts", attempts, "an integer >= -1 (-1: forever)");
  }
  optionalDuration(o, "reconnectTimeWaitMs");
  optionalBoolean(o, "waitOnFirstConnect");
  optionalTimeout(o, "jetStreamApiTimeoutMs");
  optionalDuration(o, "jetStreamSetupDeadlineMs");
  optionalObject(o, "extra");
}

/** `mesh.ref()` / `ref.with()` options. */
export function checkCallOptions(options: object | undefined): void {
  const o = asOptions(options, "call options");
  optionalTimeout(o, "timeoutMs");
  optionalBoolean(o, "adaptive", "");
  const retry = optionalObject(o, "retry");
  if (retry) checkRetryOptions(retry);
}

function checkRetryOptions(r: Options): void {
  optionalCount(r, "maxAttempts", "retry.");
  const elapsed = r.maxElapsedMs;
  if (elapsed !== undefined && (typeof elapsed !== "number" || !(elapsed >= 0))) {
    throw refuse("retry.maxElapsedMs", elapsed, "a number of milliseconds >= 0");
  }
  optionalDuration(r, "initialDelayMs", "retry.");
  optionalDuration(r, "maxDelayMs", "retry.");
  optionalBoolean(r, "retryUserErrors", "retry.");
  optionalBoolean(r, "adaptive", "retry.");
}

/** `mesh.enqueue()` options. */
export function checkEnqueueOptions(options: object | undefined): void {
  const o = asOptions(options, "enqueue options");
  if (o.key !== undefined && (typeof o.key !== "string" || o.key.length === 0)) {
    throw refuse("key", o.key, "a non-empty string");
  }
  optionalCount(o, "maxAttempts");
  optionalTimeout(o, "timeoutMs");
  optionalBoolean(o, "keepResult");
  const queue = optionalObject(o, "queue");
  if (queue) {
    optionalReplicas(queue, "replicas", "queue.");
    optionalCount(queue, "maxJobs", "queue.");
    optionalCount(queue, "maxBytes", "queue.");
    for (const name of ["duplicateWindowMs", "resultsMaxAgeMs", "dlqMaxAgeMs"]) {
      const v = queue[name];
      // JetStream takes these in nanoseconds: keep them finite and positive.
      if (v !== undefined && (typeof v !== "number" || !(v > 0 && Number.isFinite(v)))) {
        throw refuse(`queue.${name}`, v, "a positive finite number of milliseconds");
      }
    }
  }
}
