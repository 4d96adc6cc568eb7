/**
 * The subjects a stream holds messages on, with their counts, from its state (STREAM.INFO with a
 * subjects filter): one API request per page of up to 100,000 subjects. Listing a KV bucket's keys
 * and finding which reminders have a pending occurrence are both this one read; nats.js's
 * alternatives (an ordered consumer over the stream, `jsm.streams.info()`) either read every
 * message or go through `nc.request()` with an Error built per call.
 */
import { JetStreamApiError } from "@nats-io/jetstream";
import { NoRespondersError } from "@nats-io/nats-core";
import { DEFAULT_PUBACK_TIMEOUT_MS } from "./pub-ack.js";
import type { RequestOutcome } from "./transport.js";

/** What a subject listing uses of its connection's transport. */
export interface StreamStateTransport {
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<RequestOutcome>;
  setUpJetStream<T>(what: string, op: () => Promise<T>): Promise<T>;
}

/** What STREAM.INFO with a subjects filter answers (the fields read here). */
interface StreamInfoReply {
  readonly error?: { readonly code?: number; readonly err_code?: number; readonly description?: string };
  readonly state?: { readonly subjects?: Record<string, number> };
  /** How many subjects match, when the answer is one page of them. */
  readonly total?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The subjects of `stream` matching `filter` (NATS wildcards) that hold at least one message, and
 * how many each. A listing only reads, so a JetStream that does not answer in time is waited for
 * like a setup step (`what` names it), ending in JetStreamUnavailableError at the deadline; an
 * error answer fails as nats.js's own API calls do (`JetStreamApiError`; "temporarily unavailable",
 * 10008, is retried like a timeout).
 */
export function streamSubjectCounts(
  transport: StreamStateTransport,
  stream: string,
  filter: string,
  what: string,
): Promise<Map<string, number>> {
  const infoSubject = `$JS.API.STREAM.INFO.${stream}`;
  return transport.setUpJetStream(what, async () => {
    const out = new Map<string, number>();
    for (let offset = 0; ; ) {
      // No answer in time (DeadlineExceededError) or nobody serving the API: not ready yet.
      const outcome = await transport.request(
        infoSubject,
        encoder.encode(JSON.stringify({ subjects_filter: filter, offset })),
        DEFAULT_PUBACK_TIMEOUT_MS,
      );
      if (outcome.kind !== "reply") throw new NoRespondersError(infoSubject);
      const info = JSON.parse(decoder.decode(outcome.data)) as StreamInfoReply;
      if (info.error) {
        const { code = 500, err_code = 0, description = "stream info failed" } = info.error;
        throw new JetStreamApiError({ code, err_code, description: `listing ${what}: ${description}` });
      }
      const page = Object.entries(info.state?.subjects ?? {});
      for (const [subject, count] of page) out.set(subject, count);
      offset += page.length;
      // Paged only past the server's limit per answer: `total` says how many there are.
      if (page.length === 0 || info.total === undefined || offset >= info.total) return out;
    }
  });
}
