/**
 * Retries start-up writes that can fail for a moment on a fresh JetStream cluster (a bucket just
 * created has no stream leader yet: "no responders", timeouts). Configuration errors are final.
 */
import { ConfigurationError } from "../errors.js";
import type { Logger } from "../log.js";

export async function retryStartup<T>(
  what: string,
  fn: () => Promise<T>,
  logger: Logger,
  withinMs = 20_000,
): Promise<T> {
  const end = performance.now() + withinMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConfigurationError || performance.now() > end) throw err;
      logger.debug(`${what} failed; retrying`, { err: err instanceof Error ? err.message : String(err) });
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
    }
  }
}
