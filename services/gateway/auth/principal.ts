/** Who made an HTTP request, as the authentication middleware established it. */
export interface Principal {
  /** The identity calls are made for (`caller` of every mesh call of the request). */
  readonly id: string;
  /** How it was established. */
  readonly via: "api-key" | "jwt" | "insecure-dev";
  /** The verified JWT claims (for `via: "jwt"`), for custom middleware (tenants, scopes). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** Verifies the credentials of a request; throws `UnauthenticatedError` when there are none or they are bad. */
export interface Authenticator {
  authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<Principal>;
}
