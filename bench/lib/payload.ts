/**
 * The ~64-byte message every row sends. Troupe passes it as the single argument of an actor call;
 * the raw baselines `pack()` it with msgpackr directly.
 */
import { pack } from "msgpackr";

export interface Payload {
  id: string;
  sku: string;
  qty: number;
  price: number;
  ts: number;
}

/** The payload for actor/key `id` (ids of the form `xxx-nnnnnnnn` keep it at 64-66 bytes of msgpack). */
export function payloadFor(id: string): Payload {
  return { id, sku: "tea-250g", qty: 3, price: 12.5, ts: 1_767_225_600_000 };
}

/** Size of the payload as raw msgpack, for the report. */
export const PAYLOAD_BYTES = pack(payloadFor("order-00000042")).length;
