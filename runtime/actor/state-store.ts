/**
 * Where actor state lives. The revision is the fencing token: a save names the revision it read,
 * and fails with `StaleActivationError` if anyone wrote since.
 */
import {
  PayloadTooLargeError,
  StaleActivationError,
  StateNotStorableError,
  StateStoreError,
} from "../errors.js";
import { kvKeyForId } from "../messaging/index.js";
import { type KeyValueBucket, RevisionMismatchError } from "../transport/index.js";

export interface StoredState {
  readonly bytes: Uint8Array;
  readonly revision: number;
}

export interface StateStore {
  /** The saved state, or null if the actor never saved any. */
  load(id: string): Promise<StoredState | null>;
  /** Saves if the stored revision is still `expectedRevision` (0: nothing stored yet); returns the new revision. */
  save(id: string, bytes: Uint8Array, expectedRevision: number): Promise<number>;
}

/** State in a JetStream KV bucket: one key per actor id, compare-and-set on the revision. */
export class KvStateStore implements StateStore {
  constructor(
    private readonly bucket: KeyValueBucket,
    private readonly typeName: string,
  ) {}

  async load(id: string): Promise<StoredState | null> {
    try {
      const rec = await this.bucket.get(kvKeyForId(id));
      return rec ? { bytes: rec.value, revision: rec.revision } : null;
    } catch (err) {
      throw new StateStoreError(`loading state of ${this.typeName}/${id} failed`, {
        cause: err,
        details: { actorType: this.typeName, actorId: id },
      });
    }
  }

  async save(id: string, bytes: Uint8Array, expectedRevision: number): Promise<number> {
    try {
      return await this.bucket.compareAndSet(kvKeyForId(id), bytes, expectedRevision);
    } catch (err) {
      if (err instanceof RevisionMismatchError) {
        throw new StaleActivationError(
          `state of ${this.typeName}/${id} was written by another activation since revision ${expectedRevision}; this activation stood down`,
          { cause: err, details: { actorType: this.typeName, actorId: id, expectedRevision } },
        );
      }
      if (err instanceof PayloadTooLargeError) {
        // Retrying cannot help: the state is larger than the server accepts (max_payload).
        throw new StateNotStorableError(
          `state of ${this.typeName}/${id} (${bytes.length} bytes) is larger than the server accepts: ${err.message}`,
          {
            cause: err,
            details: {
              ...err.details,
              actorType: this.typeName,
              actorId: id,
              path: "state",
              reason: "too-large",
            },
          },
        );
      }
      throw new StateStoreError(`saving state of ${this.typeName}/${id} failed`, {
        cause: err,
        details: { actorType: this.typeName, actorId: id },
      });
    }
  }
}
