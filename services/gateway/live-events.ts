/**
 * Live events for a client (the SSE route and WebSocket subscriptions): a core subscription on the
 * events subject of a NATS-style pattern, each event decoded and passed through the optional
 * filter. It takes nothing from the durable subscribers, and sees only events published while it
 * is open. Bad patterns and filters are refused (TROUPE_CONFIGURATION) before anything subscribes.
 *
 * @example
 * ```ts
 * const live = await openLiveEvents(mesh, "orders.*", "total > 10", logger, (topic, event) => send(topic, event));
 * live.close();
 * ```
 */
import { compileFilter, type Logger, type Mesh } from "troupe";
import { assertPattern, decodeEvent, eventNamesOf } from "troupe/internal";

export type EventFilter = ReturnType<typeof compileFilter>;

export interface LiveEvents {
  close(): void;
}

/** Checks the pattern and compiles the filter (throws a ConfigurationError on either). */
export function liveEventsQuery(pattern: string, filter: string | undefined): EventFilter | undefined {
  assertPattern(pattern);
  return filter ? compileFilter(filter) : undefined;
}

/**
 * Subscribes and resolves once the server has the subscription (an event published after that is
 * delivered). `deliver` runs for every matching event, in order.
 */
export async function openLiveEvents(
  mesh: Mesh,
  pattern: string,
  filter: EventFilter | undefined,
  logger: Logger,
  deliver: (topic: string, event: unknown) => void,
): Promise<LiveEvents> {
  const names = eventNamesOf(mesh);
  const sub = mesh.transport.subscribe(names.subject(pattern), {}, (msg) => {
    let event: unknown;
    try {
      event = decodeEvent(msg.data, msg.headers);
    } catch (err) {
      logger.warn("live events: undecodable event skipped", { subject: msg.subject, err });
      return;
    }
    if (filter && !filter(event)) return;
    deliver(names.topicOf(msg.subject), event);
  });
  await mesh.transport.flush();
  return { close: () => sub.unsubscribe() };
}
