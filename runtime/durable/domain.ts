/**
 * Which JetStream domain a mesh's server is in (edge sites, docs/patterns/edge-sites.md), read
 * once per connection. A job or event stored in a domain carries it (`troupe-origin-domain`): a
 * runner in another domain stores a copy of the job's result that the edge's results stream sources
 * back, and an edge's subscribers skip their own site's events when the hub's copies come back.
 */
import { ORIGIN_DOMAIN_HEADER } from "../messaging/index.js";
import { jetStreamDomain } from "../transport/index.js";
import type { MeshConnection } from "./services.js";

const domains = new WeakMap<object, Promise<string | undefined>>();
/** The domains read so far (a mesh absent here has not had its answer yet). */
const settled = new WeakMap<object, string | undefined>();

/** After a failed read, how long "no domain" is assumed before asking again. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/**
 * The domain of `mesh`'s server (undefined: none). Never rejects: a failed read (no JetStream
 * yet, a transport without JetStream) counts as "no domain" for a minute, so enqueues do not wait
 * on it again and again.
 */
export function domainOf(mesh: MeshConnection): Promise<string | undefined> {
  let p = domains.get(mesh);
  if (!p) {
    p = jetStreamDomain(mesh.transport).then(
      (domain) => {
        settled.set(mesh, domain);
        return domain;
      },
      (err: unknown) => {
        mesh.logger.debug("JetStream domain unknown", { err });
        setTimeout(() => domains.delete(mesh), RETRY_AFTER_FAILURE_MS).unref();
        return undefined;
      },
    );
    domains.set(mesh, p);
  }
  return p;
}

/** The domain already known for `mesh`, without asking the server (the outbox path is offline). */
export async function knownDomainOf(mesh: MeshConnection): Promise<string | undefined> {
  return domains.get(mesh);
}

/**
 * The domain of `mesh`'s server if it was read already, else undefined (and the read starts): for
 * sends that must not wait on the server (core publishes).
 */
export function settledDomainOf(mesh: MeshConnection): string | undefined {
  if (!settled.has(mesh)) void domainOf(mesh);
  return settled.get(mesh);
}

/** The origin domain a stored job or event names, if it is a valid domain token. */
export function originDomainOf(headers: { has(k: string): boolean; get(k: string): string } | undefined) {
  if (!headers?.has(ORIGIN_DOMAIN_HEADER)) return undefined;
  const value = headers.get(ORIGIN_DOMAIN_HEADER);
  return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}
