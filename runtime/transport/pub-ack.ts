/**
 * JetStream's answer to a publish (the PubAck), read from the reply of a request sent through the
 * transport's multiplexed inbox. Used for durable publishes (jobs, results, events, dead letters)
 * and for compare-and-set writes to KV buckets, which are publishes to the bucket's stream.
 *
 * @example
 * ```ts
 * const outcome = await transport.request(subject, data, DEFAULT_PUBACK_TIMEOUT_MS, { "Nats-Msg-Id": id });
 * const { seq, duplicate } = pubAckOf(subject, outcome);
 * ```
 */
import type { RequestOutcome } from "./transport.js";

/** How long a publish waits for its PubAck when the caller sets no timeout (the nats.js default). */
export const DEFAULT_PUBACK_TIMEOUT_MS = 5000;

/** JetStream error codes (nats-server's `errors.json`) that mean the stream's limits refused the message. */
const JS_STREAM_STORE_FAILED = 10077;
const JS_INSUFFICIENT_RESOURCES = 10023;
const JS_ACCOUNT_RESOURCES_EXCEEDED = 10002;

export interface PublishResult {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** JetStream refused a publish (other than for its limits), or nothing stores the subject. */
export class JetStreamPublishError extends Error {
  override name = "JetStreamPublishError";
  constructor(
    /** HTTP-like status (503: no stream listens on the subject). */
    readonly status: number,
    /** JetStream's error code (`err_code`), 0 when there is none. */
    readonly errCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The stream's limits refused a publish (discard policy "new"). */
export class StreamLimitError extends Error {
  override name = "StreamLimitError";
  constructor(
    readonly stream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface PubAckJson {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

const decoder = new TextDecoder();

/**
 * The PubAck in `outcome`, the reply to a publish on `subject`.
 * @throws StreamLimitError when the stream's limits refused the message.
 * @throws JetStreamPublishError for any other refusal, or when no stream listens on `subject`.
 */
export function pubAckOf(subject: string, outcome: RequestOutcome): PublishResult {
  if (outcome.kind !== "reply") {
    throw new JetStreamPublishError(503, 0, `no stream stores messages published on ${subject}`);
  }
  let ack: PubAckJson;
  try {
    ack = JSON.parse(decoder.decode(outcome.data)) as PubAckJson;
  } catch {
    throw new JetStreamPublishError(0, 0, "the server's answer to a publish was not a PubAck");
  }
  if (ack.error) {
    const { code = 0, err_code: errCode = 0, description = "JetStream refused the message" } = ack.error;
    if (isLimitCode(errCode)) throw new StreamLimitError(ack.stream ?? "", description);
    throw new JetStreamPublishError(code, errCode, description);
  }
  if (!ack.stream || typeof ack.seq !== "number") {
    throw new JetStreamPublishError(0, 0, "the server's PubAck names no stream");
  }
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
}

function isLimitCode(code: number): boolean {
  return (
    code === JS_STREAM_STORE_FAILED ||
    code === JS_INSUFFICIENT_RESOURCES ||
    code === JS_ACCOUNT_RESOURCES_EXCEEDED
  );
}
