/**
 * The NATS user a reply subject names. Deployed with `troupe auth gen`, every NATS user connects
 * with its own inbox prefix, `_INBOX_<user>`, and may subscribe only under it: the answer to a call
 * or tell whose reply subject is `_INBOX_<user>.<anything>` can be read by `<user>` alone. A host
 * that trusts that (host option `userFromInbox`) takes the user as the turn's attested identity.
 *
 * What that attests, and what it does not: the sender may write any reply subject, so a forged one
 * costs the forger its answer (it cannot subscribe there) but not the turn: the turn still runs and
 * counts against the named user. docs/patterns/throttling.md ("Who is calling") says what follows.
 *
 * | reply subject                       | user                  |
 * | ----------------------------------- | --------------------- |
 * | `_INBOX_troupe-client-web.ab12.7`   | `troupe-client-web`   |
 * | `_INBOX.ab12.7` (nats.js default)   | undefined             |
 * | `_INBOX_.x`, `_INBOX_a/b.x`, none   | undefined             |
 */

/** What precedes the user in a per-user inbox prefix (`_INBOX_<user>`). */
export const USER_INBOX_PREFIX = "_INBOX_";

/** Longest user name read from a reply subject. */
export const MAX_INBOX_USER_LENGTH = 128;

// A subject token (no wildcard, no space) without "/", which separates the user from a caller.
const USER = /^[\x21-\x29\x2b-\x2d\x30-\x3d\x3f-\x7e]+$/;

/** The user whose inbox `reply` is under, or undefined when it names none. */
export function inboxUserOf(reply: string | undefined): string | undefined {
  if (reply === undefined || !reply.startsWith(USER_INBOX_PREFIX)) return undefined;
  const end = reply.indexOf(".", USER_INBOX_PREFIX.length);
  if (end < 0) return undefined;
  const user = reply.slice(USER_INBOX_PREFIX.length, end);
  if (user.length === 0 || user.length > MAX_INBOX_USER_LENGTH || !USER.test(user)) return undefined;
  return user;
}

/**
 * The identity a policy keyed by caller counts an attested turn under: `<user>/<caller>`, or
 * `<user>` when the turn names no caller; the caller alone when there is no attested user.
 */
export function qualifiedCaller(user: string | undefined, caller: string | undefined): string | undefined {
  if (user === undefined) return caller;
  return caller === undefined ? user : `${user}/${caller}`;
}
