import { TroupeError } from "../errors.js";

/**
 * A throttle policy that cannot be applied. `field` names the wrong field in the policy's proto
 * shape (e.g. `limit.rate_per_second`), so the control plane can say so in its INVALID_ARGUMENT.
 */
export class InvalidPolicyError extends TroupeError {
  readonly code = "TROUPE_INVALID_POLICY";
  readonly retryable = false;
  get field(): string {
    return String(this.details.field ?? "");
  }
  static of(field: string, problem: string): InvalidPolicyError {
    return new InvalidPolicyError(`${field}: ${problem}`, { details: { field } });
  }
}
