/**
 * API keys from a file: one `<principal> <key>` per line, `#` starts a comment. Keys are kept only
 * as SHA-256 digests and a presented key is looked up by its digest, so the comparison does not
 * leak the stored key through timing. Keys shorter than 16 characters are refused at load.
 *
 * @example
 * ```text
 * # principal   key
 * shop-web      3f9c2a7e0b1d4c6f8a5e
 * reports       9d8e7f6a5b4c3d2e1f0a
 * ```
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigurationError } from "troupe";
import type { Principal } from "./principal.js";

export const MIN_API_KEY_LENGTH = 16;

export class ApiKeys {
  private constructor(private readonly byDigest: ReadonlyMap<string, string>) {}

  static parse(text: string, source = "api keys"): ApiKeys {
    const byDigest = new Map<string, string>();
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/#.*$/, "").trim();
      if (line === "") return;
      const [principal, key, extra] = line.split(/\s+/);
      if (!principal || !key || extra !== undefined) {
        throw new ConfigurationError(`${source}:${i + 1}: expected "<principal> <key>"`);
      }
      if (key.length < MIN_API_KEY_LENGTH) {
        throw new ConfigurationError(
          `${source}:${i + 1}: the key of ${principal} is shorter than ${MIN_API_KEY_LENGTH} characters`,
        );
      }
      byDigest.set(digest(key), principal);
    });
    if (byDigest.size === 0) throw new ConfigurationError(`${source} has no keys`);
    return new ApiKeys(byDigest);
  }

  static async load(file: string): Promise<ApiKeys> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new ConfigurationError(`cannot read the API keys file ${file}`, { cause: err });
    }
    return ApiKeys.parse(text, file);
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The principal of `key`, or undefined for an unknown key. */
  verify(key: string): Principal | undefined {
    const id = this.byDigest.get(digest(key));
    return id === undefined ? undefined : { id, via: "api-key" };
  }
}

function digest(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("base64");
}
