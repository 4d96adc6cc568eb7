/**
 * Maps an actor id to its shard: `shard = fnv1a32(utf8(id)) mod shards`.
 *
 * The hash is part of the wire contract: every caller and host must agree on it, across
 * versions and languages, so it is a fixed, documented function (FNV-1a, 32 bit), never
 * a runtime-provided hash.
 *
 * @example
 * ```ts
 * shardOf("cart-42", 64); // always the same number in [0, 64)
 * ```
 */
export function shardOf(actorId: string, shards: number): number {
  return fnv1a32(actorId) % shards;
}

const encoder = new TextEncoder();

/** FNV-1a over the UTF-8 bytes of `s`, as an unsigned 32-bit integer. */
export function fnv1a32(s: string): number {
  let hash = 0x811c9dc5;
  // Fast path for ASCII ids (the common case): no allocation.
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) {
      ascii = false;
      break;
    }
    hash ^= c;
    hash = Math.imul(hash, 0x01000193);
  }
  if (ascii) return hash >>> 0;
  hash = 0x811c9dc5;
  for (const byte of encoder.encode(s)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
