const ensured = new WeakMap<object, Map<string, Promise<void>>>();

/**
 * Runs `create` once per owner (a mesh connection) and key, again after a failure: how the
 * durable patterns create their streams and consumers once per connection.
 */
export function once(owner: object, key: string, create: () => Promise<void>): Promise<void> {
  let m = ensured.get(owner);
  if (!m) {
    m = new Map();
    ensured.set(owner, m);
  }
  let p = m.get(key);
  if (!p) {
    p = create();
    m.set(key, p);
    p.catch(() => m.delete(key));
  }
  return p;
}
