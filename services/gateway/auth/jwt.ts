/**
 * JWT bearer tokens, verified with jose: a shared secret (HS256/384/512) or a JWKS URL (the key set
 * is fetched and cached by jose, and refetched for an unknown `kid`). The principal is the `sub`
 * claim; `exp`/`nbf` are always checked, `iss`/`aud` when configured.
 */
import { readFile } from "node:fs/promises";
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { ConfigurationError } from "troupe";
import { UnauthenticatedError } from "../errors.js";
import type { Principal } from "./principal.js";

export interface JwtOptions {
  /** Shared secret (at least 32 bytes). */
  secret?: Uint8Array;
  /** URL of a JSON Web Key Set. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

const HMAC = ["HS256", "HS384", "HS512"];
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
export const MIN_SECRET_BYTES = 32;

export class JwtVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly options: JwtOptions) {
    if (options.secret && options.jwksUrl) {
      throw new ConfigurationError("give a JWT secret or a JWKS URL, not both");
    }
    if (options.secret) {
      if (options.secret.length < MIN_SECRET_BYTES) {
        throw new ConfigurationError(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes`);
      }
      this.key = options.secret;
      this.algorithms = HMAC;
    } else if (options.jwksUrl) {
      let url: URL;
      try {
        url = new URL(options.jwksUrl);
      } catch (err) {
        throw new ConfigurationError(`not a JWKS URL: ${options.jwksUrl}`, { cause: err });
      }
      this.key = createRemoteJWKSet(url);
      this.algorithms = ASYMMETRIC;
    } else {
      throw new ConfigurationError("a JWT verifier needs a secret or a JWKS URL");
    }
  }

  /** Reads the secret from a file (trailing newline removed). */
  static async secretFromFile(file: string): Promise<Uint8Array> {
    try {
      return new TextEncoder().encode((await readFile(file, "utf8")).replace(/\r?\n$/, ""));
    } catch (err) {
      throw new ConfigurationError(`cannot read the JWT secret file ${file}`, { cause: err });
    }
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const opts = {
        algorithms: this.algorithms,
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience ? { audience: this.options.audience } : {}),
      };
      payload =
        this.key instanceof Uint8Array
          ? (await jwtVerify(token, this.key, opts)).payload
          : (await jwtVerify(token, this.key, opts)).payload;
    } catch (err) {
      throw new UnauthenticatedError(`the bearer token was refused: ${reasonOf(err)}`, { cause: err });
    }
    if (typeof payload.sub !== "string" || payload.sub === "") {
      throw new UnauthenticatedError("the bearer token has no subject (sub)");
    }
    return { id: payload.sub, via: "jwt", claims: payload };
  }
}

/** jose's error code, which says what was wrong without echoing the token. */
function reasonOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : "invalid token";
}
