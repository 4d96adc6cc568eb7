/**
 * What must not cross the leaf-node link between an edge site and its hub. Each site is a mesh of
 * its own (its own JetStream domain, membership, leases, state); only JetStream sourcing crosses.
 *
 * - `<prefix>.>`: calls, tells, events and jobs. Were they to cross, an event published at the
 *   edge would be stored by the hub's events stream directly *and* again through the sourcing
 *   (twice, unless it had a message id), and calls could reach the other site's hosts, whose
 *   shard leases live in another domain.
 * - `$KV.>`: KV writes are publishes on `$KV.<bucket>.<key>`; an edge host's membership record or
 *   lease would land in the hub's buckets of the same name.
 * - `$JS.ACK.>`: acknowledgements name a stream, a consumer and a sequence, not a domain; an edge
 *   runner's ack must never reach the hub's consumer of the same name.
 *
 * The JetStream API (`$JS.API.>`) is kept local by the domain itself; `$JS.<domain>.API.>`, the
 * sourcing's deliveries and flow control, and replies (`_INBOX.>`, or each user's inbox prefix) still cross.
 */
import { ConfigurationError } from "../errors.js";

/** The mesh's default subject prefix (`Subjects`' default; `connect({ prefix })` changes it). */
const DEFAULT_PREFIX = "troupe";
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

function assertToken(kind: string, value: string): void {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new ConfigurationError(`${kind} "${String(value)}" must be 1-64 letters, digits, "_" or "-"`);
  }
}

/** Subjects to deny in both directions (`deny_imports` and `deny_exports`) on the edge's leaf remote. */
export function edgeLinkDenyList(prefix: string = DEFAULT_PREFIX): string[] {
  assertToken("subject prefix", prefix);
  return [`${prefix}.>`, "$KV.>", "$JS.ACK.>"];
}

/** Checks a JetStream domain name (it becomes one token of `$JS.<domain>.API`). */
export function assertDomain(domain: string): void {
  assertToken("JetStream domain", domain);
}

/** The API prefix of a domain: `$JS.<domain>.API`. */
export function domainApiPrefix(domain: string): string {
  assertDomain(domain);
  return `$JS.${domain}.API`;
}

/**
 * The leaf-node part of an edge nats-server's config, for `troupe dev --leaf` and the docs.
 *
 * @example
 * ```ts
 * leafRemoteConfig("nats-leaf://hub.example.com:7422") // leafnodes { remotes: [ { url: ..., deny_imports: [...], ... } ] }
 * ```
 */
export function leafRemoteConfig(hubLeafUrl: string, prefix: string = DEFAULT_PREFIX): string {
  const deny = edgeLinkDenyList(prefix)
    .map((s) => JSON.stringify(s))
    .join(", ");
  return [
    "leafnodes {",
    "  remotes: [",
    "    {",
    `      url: ${JSON.stringify(hubLeafUrl)}`,
    `      deny_imports: [${deny}]`,
    `      deny_exports: [${deny}]`,
    "    }",
    "  ]",
    "}",
  ].join("\n");
}
