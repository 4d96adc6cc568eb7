/**
 * Who may talk to the control plane. Authentication is on by default: a caller needs a bearer token
 * (`authorization: Bearer <token>` metadata) when tokens are configured, and a client certificate
 * signed by the configured CA when mutual TLS is (checked by TLS itself, before any call). Only
 * `insecure: true` turns both off, and says so loudly in the log. `grpc.health.v1` answers without
 * a token, so probes (Kubernetes, load balancers) work.
 *
 * Tokens are compared in constant time: both sides are hashed with SHA-256 and compared with
 * `timingSafeEqual`, and every configured token is checked, so timing tells nothing about a token.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  type Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from "@grpc/grpc-js";
import type { Logger } from "troupe";
import { ConfigurationError } from "troupe";

/** Tokens shorter than this are refused at start-up: they can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** Paths that need no token (health checks). */
const OPEN_PREFIXES = ["/grpc.health.v1.Health/"];

/**
 * Reads tokens: one per line from `tokenFile` (blank lines and `#` comments skipped; several lines
 * allow rotation), plus the comma-separated `envTokens`.
 */
export function loadTokens(tokenFile: string | undefined, envTokens: string | undefined): string[] {
  const tokens: string[] = [];
  if (tokenFile) {
    let text: string;
    try {
      text = readFileSync(tokenFile, "utf8");
    } catch (err) {
      throw new ConfigurationError(`cannot read the token file ${tokenFile}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    for (const line of text.split(/\r?\n/)) {
      const token = line.trim();
      if (token && !token.startsWith("#")) tokens.push(token);
    }
  }
  for (const token of (envTokens ?? "").split(",")) if (token.trim()) tokens.push(token.trim());
  for (const token of tokens) {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigurationError(
        `a control-plane token must be at least ${MIN_TOKEN_LENGTH} characters long`,
      );
    }
  }
  return tokens;
}

/** Checks a presented token against the configured ones in constant time. */
export class TokenVerifier {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new ConfigurationError("a token verifier needs at least one token");
    this.digests = tokens.map(digest);
  }

  verify(presented: string): boolean {
    const candidate = digest(presented);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(known, candidate) || ok;
    return ok;
  }

  /** Checks the `authorization` metadata; the reason when refused. */
  check(metadata: Metadata): string | undefined {
    const values = metadata.get("authorization");
    if (values.length === 0) return 'missing authorization metadata (expected "Bearer <token>")';
    const value = String(values[0]);
    const match = /^Bearer\s+(\S+)$/i.exec(value);
    if (!match?.[1]) return 'authorization metadata is not "Bearer <token>"';
    return this.verify(match[1]) ? undefined : "invalid bearer token";
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * A server interceptor refusing calls without a valid token with UNAUTHENTICATED, before the
 * handler runs. Refusals are logged (path and peer, never the token).
 */
export function tokenInterceptor(
  verifier: TokenVerifier,
  logger: Logger,
  /** More paths that need no token (e.g. KEDA's scaler under mutual TLS: TLS authenticated it). */
  alsoOpen: readonly string[] = [],
): ServerInterceptor {
  const open = [...OPEN_PREFIXES, ...alsoOpen];
  return (methodDescriptor, call) => {
    if (open.some((prefix) => methodDescriptor.path.startsWith(prefix))) {
      return new ServerInterceptingCall(call);
    }
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const refusal = verifier.check(metadata);
        if (refusal === undefined) {
          next(metadata);
          return;
        }
        logger.warn("control plane: refused an unauthenticated call", {
          path: methodDescriptor.path,
          peer: call.getPeer(),
          reason: refusal,
        });
        call.sendStatus({ code: status.UNAUTHENTICATED, details: refusal });
      })
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => {
        next(listener);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
