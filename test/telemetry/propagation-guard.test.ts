/** Trace-context extraction never fails a message, whatever its headers and the registered propagator. */
import { propagation, ROOT_CONTEXT, type TextMapPropagator } from "@opentelemetry/api";
import test from "ava";
import { extractContext } from "../../runtime/telemetry/propagation.js";
import { decodeHeaderBlock } from "../../runtime/transport/headers.js";

test("propagation - a propagator that throws on received headers leaves the message without a parent, not failed", (t) => {
  const throwing: TextMapPropagator = {
    inject: () => undefined,
    extract: () => {
      throw new URIError("URI malformed");
    },
    fields: () => ["baggage"],
  };
  propagation.setGlobalPropagator(throwing);
  t.teardown(() => propagation.disable());
  const block = decodeHeaderBlock(new TextEncoder().encode("NATS/1.0\r\nbaggage: %E0%A4%A\r\n\r\n"));
  if (!block.ok) throw new Error(block.reason);
  t.is(extractContext(block.headers), ROOT_CONTEXT);
});
