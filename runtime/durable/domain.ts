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

/**
 * The domain of `mesh`'s server, read now unless a read succeeded before; rejects when the read
 * fails (for a caller that retries, like the outbox's forwarder). A success also answers {@link domainOf}.
 */
export async function readDomainOf(mesh: MeshConnection): Promise<string | undefined> {
  if (settled.has(mesh)) return settled.get(mesh);
  const domain = await jetStreamDomain(mesh.transport);
  settled.set(mesh, domain);
  domains.set(mesh, Promise.resolve(domain));
  return domain;
}

/** The domain already known for `mesh`, without asking the server (the outbox path is offline). */
export async function knownDomainOf(mesh: MeshConnection): Promise<string | undefined> {
  return domains.get(mesh);
}

/**
 * The domain of `mesh`'s server if it was read already, else undefined: for sends that must not
 * wait on the server (core publishes, the outbox). With `read`, a first read starts (do not ask
 * while offline: a failed read counts as "no domain" for a while).
 */
export function settledDomainOf(mesh: MeshConnection, read = false): string | undefined {
  if (read && !settled.has(mesh)) void domainOf(mesh);
  return settled.get(mesh);
}

/** The origin domain a stored job or event names, if it is a valid domain token. */
export function originDomainOf(headers: { has(k: string): boolean; get(k: string): string } | undefined) {
  if (!headers?.has(ORIGIN_DOMAIN_HEADER)) return undefined;
  const value = headers.get(ORIGIN_DOMAIN_HEADER);
  return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}
