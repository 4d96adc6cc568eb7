/**
 * What a failed turn reports. An ordinary `Error` (readable name and message, primitive code and
 * details, a cause that is one too) is reported as it is, so logs keep its stack. Anything else a
 * handler can throw (`undefined`, a Symbol, a null-prototype object, an object whose `toString`
 * throws, an Error whose `message` getter throws, a TroupeError whose details are cyclic or hold a
 * huge BigInt) becomes the typed error a caller would decode from its wire form: an
 * `ActorMethodError` with a safe description, or the TroupeError's own class with wire-safe
 * details. Either way every consumer of the outcome (the reply encoder, a job's dead letter, the
 * logger) can read it without throwing, so the caller gets a prompt reply instead of waiting for its
 * deadline.
 */
import { fromWireError, toWireError } from "../errors.js";
import { isWellBehavedError } from "../thrown.js";

export function turnError(thrown: unknown): unknown {
  return isWellBehavedError(thrown) ? thrown : fromWireError(toWireError(thrown));
}
