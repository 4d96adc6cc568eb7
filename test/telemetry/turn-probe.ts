/**
 * Actors that report what user code sees of tracing inside a turn (the sampling tests): `Probe`
 * looks at the active span, starts a span, calls a `Leaf`, starts another span after that await.
 */
import { type SpanContext, TraceFlags, trace } from "@opentelemetry/api";
import { Actor } from "troupe";

export interface SeenSpan {
  traceId: string;
  spanId: string;
  sampled: boolean;
  recording: boolean;
}

export interface TurnView {
  active: SeenSpan | undefined;
  user: SeenSpan;
  afterAwait: SeenSpan;
  nested: SeenSpan | undefined;
}

export function seen(
  span: { spanContext(): SpanContext; isRecording(): boolean } | undefined,
): SeenSpan | undefined {
  if (!span) return undefined;
  const sc = span.spanContext();
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    sampled: (sc.traceFlags & TraceFlags.SAMPLED) !== 0,
    recording: span.isRecording(),
  };
}

export class Leaf extends Actor {
  async look(): Promise<SeenSpan | undefined> {
    return seen(trace.getActiveSpan());
  }
}

export class Probe extends Actor {
  /** What user code sees: the active span, a span it starts, one started after an await, a nested call. */
  async look(): Promise<TurnView> {
    const tracer = trace.getTracer("user-code");
    const active = seen(trace.getActiveSpan());
    const user = tracer.startSpan("user work");
    const userSeen = seen(user) as SeenSpan; // before end(): an ended span no longer records
    user.end();
    const nested = await this.ref(Leaf, `${this.id}-leaf`).look();
    const after = tracer.startSpan("user after await");
    const afterSeen = seen(after) as SeenSpan;
    after.end();
    return { active, user: userSeen, afterAwait: afterSeen, nested };
  }
}
