/**
 * Authentication of gateway requests: API keys (`Authorization: ApiKey <key>` or `X-API-Key`) and
 * JWT bearer tokens (`Authorization: Bearer <jwt>`). `credentials()` combines whichever are
 * configured into one {@link Authenticator}.
 */
import { UnauthenticatedError } from "../errors.js";
import type { ApiKeys } from "./api-keys.js";
import type { JwtVerifier } from "./jwt.js";
import type { Authenticator, Principal } from "./principal.js";

export { ApiKeys, MIN_API_KEY_LENGTH } from "./api-keys.js";
export { type JwtOptions, JwtVerifier } from "./jwt.js";
export type { Authenticator, Principal } from "./principal.js";

export interface CredentialsOptions {
  apiKeys?: ApiKeys;
  jwt?: JwtVerifier;
}

export function credentials(options: CredentialsOptions): Authenticator {
  const { apiKeys, jwt } = options;
  return {
    async authenticate(headers): Promise<Principal> {
      const authorization = first(headers.authorization);
      const headerKey = first(headers["x-api-key"]);
      if (authorization) {
        const [scheme, value] = splitScheme(authorization);
        if (scheme === "bearer" && jwt) return jwt.verify(value);
        if (scheme === "apikey" && apiKeys) return byKey(apiKeys, value);
        throw new UnauthenticatedError(
          `the Authorization scheme "${scheme.slice(0, 20)}" is not accepted here`,
        );
      }
      if (headerKey !== undefined && apiKeys) return byKey(apiKeys, headerKey);
      throw new UnauthenticatedError("credentials required (Authorization: Bearer <jwt> or ApiKey <key>)");
    },
  };
}

function byKey(keys: ApiKeys, key: string): Principal {
  const p = keys.verify(key.trim());
  if (!p) throw new UnauthenticatedError("unknown API key");
  return p;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function splitScheme(header: string): [string, string] {
  const i = header.indexOf(" ");
  if (i < 0) return [header.toLowerCase(), ""];
  return [header.slice(0, i).toLowerCase(), header.slice(i + 1).trim()];
}
