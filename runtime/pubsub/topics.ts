/**
 * Topics and subscription patterns of publish-subscribe (DESIGN §4); the subjects, stream,
 * consumer and queue-group names they become are built in `messaging/subjects.ts` (EventNames):
 *
 * - events travel on `<prefix>.evt.<topic>`; a topic is 1-16 dot-separated tokens of letters,
 *   digits, `_` and `-` (no wildcards when publishing);
 * - a subscription pattern is a topic whose tokens may be `*` (exactly one token) or, last, `>`
 *   (one or more tokens), as in NATS;
 * - stream `<prefix>_events` stores `<prefix>.evt.>`;
 * - the durable consumer of a subscription is `<Type>_<method>` (one per subscribing method: every
 *   subscribing type gets its own copy of each event, its hosts compete within the consumer);
 * - an ephemeral subscription is a core NATS queue group `<prefix>.evt.<Type>.<method>`.
 */
import { ConfigurationError } from "../errors.js";

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_TOPIC_TOKENS = 16;
export const MAX_TOPIC_LENGTH = 256;

function tokensOf(kind: string, value: string): string[] {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_TOPIC_LENGTH) {
    throw new ConfigurationError(`${kind} must be 1-${MAX_TOPIC_LENGTH} characters, got "${String(value)}"`);
  }
  const tokens = value.split(".");
  if (tokens.length > MAX_TOPIC_TOKENS) {
    throw new ConfigurationError(`${kind} "${value}" has more than ${MAX_TOPIC_TOKENS} tokens`);
  }
  return tokens;
}

/** Checks a topic to publish on: tokens only, no wildcards. */
export function assertTopic(topic: string): void {
  for (const t of tokensOf("topic", topic)) {
    if (!TOKEN.test(t)) {
      throw new ConfigurationError(
        `topic "${topic}": each dot-separated token must be letters, digits, "_" or "-" (wildcards are for subscribing)`,
      );
    }
  }
}

/** Checks a subscription pattern: tokens, `*`, and `>` as the last token. */
export function assertPattern(pattern: string): void {
  const tokens = tokensOf("subscription pattern", pattern);
  tokens.forEach((t, i) => {
    if (t === "*" || TOKEN.test(t)) return;
    if (t === ">" && i === tokens.length - 1) return;
    throw new ConfigurationError(
      `subscription pattern "${pattern}": tokens are letters, digits, "_", "-", "*", or ">" as the last one`,
    );
  });
}

/** True when `topic` matches `pattern` (NATS rules). */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split(".");
  const t = topic.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== "*" && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}
