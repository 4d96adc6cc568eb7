/**
 * The control plane protects its own API: each client (its certificate's subject under mutual TLS,
 * else its IP address) gets a token bucket of calls; a call beyond it is refused with
 * `RESOURCE_EXHAUSTED` and `grpc-retry-pushback-ms` before any handler runs. A host channel stream
 * counts as one call when it opens. Health checks are not limited.
 */
import {
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  ServerListenerBuilder,
} from "@grpc/grpc-js";
import type { Logger } from "troupe";
import { ThrottledError } from "troupe";
import { grpcStatusOf, TokenBucket } from "troupe/internal";

export interface ApiLimit {
  ratePerSecond: number;
  burst: number;
}

export const DEFAULT_API_LIMIT: ApiLimit = { ratePerSecond: 50, burst: 100 };
/** Clients remembered at most; beyond it, full (idle) buckets are forgotten first. */
const MAX_CLIENTS = 10_000;

export function apiLimitInterceptor(limit: ApiLimit, logger: Logger): ServerInterceptor {
  const buckets = new Map<string, TokenBucket>();
  const bucketOf = (client: string): TokenBucket => {
    let bucket = buckets.get(client);
    if (!bucket) {
      if (buckets.size >= MAX_CLIENTS) {
        for (const [key, b] of buckets) if (b.isFull()) buckets.delete(key);
      }
      bucket = new TokenBucket(limit.ratePerSecond, limit.burst);
      buckets.set(client, bucket);
    }
    return bucket;
  };
  return (methodDescriptor, call) => {
    if (methodDescriptor.path.startsWith("/grpc.health.v1.Health/")) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const client = clientOf(call);
        const bucket = bucketOf(client);
        if (bucket.tryTake()) {
          next(metadata);
          return;
        }
        const retryAfterMs = bucket.msUntilAvailable();
        const err = new ThrottledError(
          `too many control-plane calls from ${client} (limit ${limit.ratePerSecond}/s); retry after ${retryAfterMs} ms`,
          {
            details: { policy: "control-plane-api", limit: limit.ratePerSecond, remaining: 0, retryAfterMs },
          },
        );
        logger.warn("control plane: throttled a client of the API", { client, path: methodDescriptor.path });
        call.sendStatus(grpcStatusOf(err));
      })
      .build();
    return new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) => {
          next(listener);
        })
        .build(),
    );
  };
}

function clientOf(call: ServerInterceptingCallInterface): string {
  const subject = call.getAuthContext().sslPeerCertificate?.subject;
  if (subject?.CN) return `cn:${subject.CN}`;
  const peer = call.getPeer();
  const colon = peer.lastIndexOf(":");
  return colon > 0 ? peer.slice(0, colon) : peer;
}
