/** Why a durable message (a job, an event delivery) went to the dead-letter stream. */
export type DeadLetterReason =
  /** The last allowed attempt failed. */
  | "attempts-exhausted"
  /** The handler threw a non-retryable error (e.g. `TerminalError`, unknown method). */
  | "terminal"
  /** `maxElapsedMs` since the job was stored passed before it succeeded. */
  | "expired"
  /** The job's bytes are not a valid job envelope. */
  | "malformed";
