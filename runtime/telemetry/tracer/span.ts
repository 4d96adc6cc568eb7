/**
 * A recording span of Troupe's tracer: the whole `Span` API of `@opentelemetry/api`, kept as plain
 * fields that the OTLP encoder reads directly. Times are epoch milliseconds with a sub-microsecond
 * fraction (a double keeps ~0.5 µs of resolution at today's epoch).
 */
import {
  type Attributes,
  type AttributeValue,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
} from "@opentelemetry/api";

/** What a span needs from the tracer that made it. */
export interface SpanOwner {
  readonly scope: InstrumentationScope;
  readonly limits: SpanLimits;
  /** Called once, when the span ends. */
  onEnd(span: RecordedSpan): void;
}

export interface InstrumentationScope {
  readonly name: string;
  readonly version: string | undefined;
}

export interface SpanLimits {
  readonly attributeCount: number;
  readonly eventCount: number;
  readonly linkCount: number;
  readonly attributesPerEvent: number;
  readonly attributesPerLink: number;
  /** Longer string values are truncated (Infinity: never). */
  readonly attributeValueLength: number;
}

export interface RecordedEvent {
  readonly name: string;
  readonly timeMs: number;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
}

/** Epoch ms now, from the monotonic clock (as the SDK does). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A `TimeInput` as epoch ms: HrTime, Date, epoch ms, or a `performance.now()` value. */
export function toEpochMs(time: TimeInput): number {
  if (typeof time === "number") return time < performance.timeOrigin ? performance.timeOrigin + time : time;
  if (time instanceof Date) return time.getTime();
  const [seconds, nanos] = time as HrTime;
  return seconds * 1000 + nanos / 1e6;
}

export class RecordedSpan implements Span {
  endMs = 0;
  ended = false;
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly attributes: Attributes = {};
  droppedAttributesCount = 0;
  events: RecordedEvent[] | undefined;
  droppedEventsCount = 0;
  links: Link[] | undefined;
  droppedLinksCount = 0;
  private attributeCount = 0;

  constructor(
    readonly owner: SpanOwner,
    private readonly context: SpanContext,
    /** The parent's context; undefined for a root span. */
    readonly parent: SpanContext | undefined,
    public name: string,
    readonly kind: SpanKind,
    readonly startMs: number,
    attributes: Attributes | undefined,
    links: Link[] | undefined,
  ) {
    if (attributes) this.setAttributes(attributes);
    if (links) this.addLinks(links);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  /**
   * For the SDK's batch span processor, which waits for a span's resource attributes before export.
   * The resource is encoded by the exporter, whose attributes were settled before the first span.
   */
  get resource(): { readonly asyncAttributesPending: boolean } {
    return SETTLED_RESOURCE;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.ended || value === undefined || value === null || key === "") return this;
    if (!isAttributeValue(value)) return this;
    if (key === "__proto__") {
      // Assigning it would replace the attributes object's prototype, not add a key.
      this.droppedAttributesCount++;
      return this;
    }
    if (!Object.hasOwn(this.attributes, key)) {
      if (this.attributeCount >= this.owner.limits.attributeCount) {
        this.droppedAttributesCount++;
        return this;
      }
      this.attributeCount++;
    }
    this.attributes[key] = truncated(value, this.owner.limits.attributeValueLength);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const limit = this.owner.limits.eventCount;
    if (limit === 0) {
      this.droppedEventsCount++;
      return this;
    }
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrTime)) time = attributesOrTime;
    else attributes = attributesOrTime;
    this.events ??= [];
    if (this.events.length >= limit) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    const { kept, dropped } = validAttributes(
      attributes,
      this.owner.limits.attributesPerEvent,
      this.owner.limits,
    );
    this.events.push({
      name,
      timeMs: time === undefined ? nowMs() : toEpochMs(time),
      attributes: kept,
      droppedAttributesCount: dropped,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    this.links ??= [];
    if (this.links.length >= this.owner.limits.linkCount) {
      this.droppedLinksCount++;
      return this;
    }
    if (!link.attributes) {
      this.links.push({ context: link.context });
      return this;
    }
    const { kept, dropped } = validAttributes(
      link.attributes,
      this.owner.limits.attributesPerLink,
      this.owner.limits,
    );
    this.links.push({ context: link.context, attributes: kept, droppedAttributesCount: dropped });
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  /** OK is final; ERROR replaces UNSET or an earlier ERROR; UNSET is ignored (the API's rules). */
  setStatus(status: SpanStatus): this {
    if (this.ended || status.code === SpanStatusCode.UNSET) return this;
    if (this.status.code === SpanStatusCode.OK) return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === "string"
        ? { code: status.code, message: status.message }
        : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    const end = endTime === undefined ? nowMs() : toEpochMs(endTime);
    this.endMs = Math.max(end, this.startMs);
    this.owner.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  /** An `exception` event with `exception.type`, `.message` and `.stacktrace` (semantic conventions). */
  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === "string") {
      attributes["exception.message"] = exception;
    } else if (exception) {
      const e = exception as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown };
      const type = e.code !== undefined ? String(e.code) : e.name;
      if (typeof type === "string" && type !== "") attributes["exception.type"] = type;
      if (typeof e.message === "string") attributes["exception.message"] = e.message;
      if (typeof e.stack === "string") attributes["exception.stacktrace"] = e.stack;
    }
    this.addEvent("exception", attributes, time);
  }
}

const SETTLED_RESOURCE = { asyncAttributesPending: false } as const;

/** The valid attributes of an event or link, at most `count` of them, and how many were dropped. */
function validAttributes(
  attributes: Attributes | undefined,
  count: number,
  limits: SpanLimits,
): { kept: Attributes; dropped: number } {
  const kept: Attributes = {};
  let n = 0;
  let dropped = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null || !isAttributeValue(value)) continue;
    if (n >= count || key === "__proto__") {
      dropped++;
      continue;
    }
    kept[key] = truncated(value, limits.attributeValueLength);
    n++;
  }
  return { kept, dropped };
}

function isTimeInput(v: unknown): v is TimeInput {
  return typeof v === "number" || v instanceof Date || (Array.isArray(v) && v.length === 2);
}

/** A primitive, or an array of one primitive type (nulls allowed), as the API allows. */
function isAttributeValue(value: unknown): value is AttributeValue {
  const t = typeof value;
  if (t === "string" || t === "number" || t === "boolean") return true;
  if (!Array.isArray(value)) return false;
  let kind: string | undefined;
  for (const item of value) {
    if (item === null || item === undefined) continue;
    const it = typeof item;
    if (it !== "string" && it !== "number" && it !== "boolean") return false;
    if (kind === undefined) kind = it;
    else if (kind !== it) return false;
  }
  return true;
}

function truncated(value: AttributeValue, limit: number): AttributeValue {
  if (limit === Number.POSITIVE_INFINITY) return Array.isArray(value) ? value.slice() : value;
  if (typeof value === "string") return value.length > limit ? value.slice(0, limit) : value;
  if (Array.isArray(value)) {
    return value.map((v) =>
      typeof v === "string" && v.length > limit ? v.slice(0, limit) : v,
    ) as AttributeValue;
  }
  return value;
}
