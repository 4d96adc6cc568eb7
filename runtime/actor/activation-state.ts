/**
 * The stored state of one activation of a stateful type: the revision it was loaded or last saved
 * at and those bytes, loading, saving when a turn changed it (compare-and-set on the revision), and
 * the state to roll back to. A refusal of the state codec (messaging/state-codec.ts) becomes the
 * typed error that names the actor. The activation (activation.ts) decides when to load, save or
 * roll back.
 */
import { StateNotLoadableError, StateNotStorableError, type TroupeError } from "../errors.js";
import { decodeState, encodeStateIfChanged } from "../messaging/index.js";
import type { ActorType } from "./actor-type.js";
import type { StateStore } from "./state-store.js";

export class StoredState {
  private revision = 0;
  private savedBytes: Uint8Array | undefined;

  constructor(
    private readonly id: string,
    private readonly type: ActorType,
    private readonly store: StateStore,
  ) {}

  /** The stored state, or the type's initial state when nothing was ever saved. */
  async load(): Promise<unknown> {
    const stored = await this.store.load(this.id);
    if (stored) {
      const state = decodeStoredState(stored.bytes, stored.revision, this.type.name, this.id);
      this.revision = stored.revision;
      this.savedBytes = stored.bytes;
      return state;
    }
    this.revision = 0;
    this.savedBytes = undefined;
    return (this.type.initialState as () => unknown)();
  }

  /**
   * Saves `state` if its encoding differs from what was last saved or loaded. A state the state
   * decoder would not load again is refused here (`StateNotStorableError`), before anything is
   * written: an acknowledged turn always loads.
   */
  async saveIfChanged(state: unknown): Promise<void> {
    const bytes = encodeChangedState(state, this.savedBytes, this.type.name, this.id);
    if (!bytes) return;
    this.revision = await this.store.save(this.id, bytes, this.revision);
    this.savedBytes = bytes;
  }

  /**
   * The last saved (or initial) state, for a turn that failed. `savedBytes` passed the state
   * decoder when they were loaded, or its checks when they were saved, so decoding them again does
   * not depend on anything the turn did.
   */
  restore(): unknown {
    return this.savedBytes ? decodeState(this.savedBytes) : (this.type.initialState as () => unknown)();
  }
}

/** Stored bytes as state; bytes the state decoder refuses make the actor unloadable (a typed error). */
function decodeStoredState(bytes: Uint8Array, revision: number, type: string, id: string): unknown {
  try {
    return decodeState(bytes);
  } catch (err) {
    throw new StateNotLoadableError(
      `stored state of ${type}/${id} (revision ${revision}, ${bytes.length} bytes) cannot be decoded: ${(err as Error).message}; inspect or repair it with \`troupe state get|put|rm ${type} <id>\``,
      {
        cause: err,
        details: {
          actorType: type,
          actorId: id,
          revision,
          bytes: bytes.length,
          reason: (err as TroupeError).details?.reason as string | undefined,
        },
      },
    );
  }
}

/**
 * The encoding of `state` if it differs from `savedBytes` (undefined when unchanged). A state the
 * state decoder would not load again is refused (`StateNotStorableError`), before anything is
 * written: an acknowledged turn always loads.
 */
function encodeChangedState(
  state: unknown,
  savedBytes: Uint8Array | undefined,
  type: string,
  id: string,
): Uint8Array | undefined {
  try {
    return encodeStateIfChanged(state, savedBytes);
  } catch (err) {
    const details = err instanceof StateNotStorableError ? err.details : {};
    throw new StateNotStorableError(
      `state of ${type}/${id} not saved, the turn was rolled back: ${(err as Error).message}`,
      { cause: err, details: { ...details, actorType: type, actorId: id } },
    );
  }
}
