/**
 * The answering side of a host: the turn object each inbound call or tell becomes, and what
 * happens when it ends: a reply in bytes (with keepalives until then), a value settled in-process
 * for a runner of this process, a refused tell handed back to its sender, or a logged failure.
 */
import type { ActorType, Turn, TurnOutcome } from "../actor/index.js";
import {
  ActorMethodError,
  fromWireError,
  HostShuttingDownError,
  MalformedMessageError,
  ThrottledError,
  TroupeError,
  toWireError,
} from "../errors.js";
import type { TurnScope } from "../interceptors/index.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import { encodeError, encodeResult } from "../messaging/index.js";
import type { InboundMessage, Transport } from "../transport/index.js";
import type { AwaitedCall, CallKeepalives } from "./call-keepalives.js";

/**
 * A call or tell for a turn of this host: one object per message, whose `settle` replies (or, for
 * a tell, logs a failure). A reply goes out as bytes, or, for a call a
 * runner of this process made with arguments it handed over (`local`), as the value itself. A call
 * answered with bytes gets keepalives until it is settled (see call-keepalives.ts).
 */
export class InboundTurn implements Turn, AwaitedCall {
  prevAwaited: AwaitedCall | undefined = undefined;
  nextAwaited: AwaitedCall | undefined = undefined;
  spokeAt = -1;
  /** Set by the inbound links (tracing: an unsampled turn's context); the handler runs through it. */
  scope: TurnScope | undefined = undefined;

  constructor(
    private readonly replies: Replies,
    private readonly type: ActorType,
    private readonly actorId: string,
    readonly method: string,
    readonly args: unknown[],
    readonly deadline: number,
    /** Where the reply goes; undefined for a tell. */
    readonly replyTo: string | undefined,
    /** The reply is settled in-process (`Transport.settleLocally`), not encoded. */
    private readonly local = false,
    /** A tell's message: its status subject gets a refusal, so its sender sends it again. */
    private readonly tell: InboundMessage | undefined = undefined,
  ) {}

  settle(outcome: TurnOutcome): void {
    const reply = this.replyTo;
    // A tell has no reply subject (nats.js gives an empty string, local delivery undefined).
    if (!reply) this.replies.tellEnded(outcome, this.type, this.actorId, this.method, this.tell);
    else if (this.local) this.replies.settleLocally(reply, outcome, this.type, this.actorId, this.method);
    else {
      this.replies.keepalives.remove(this);
      this.replies.sendReply(reply, outcome, this.type, this.actorId, this.method);
    }
  }
}

export class Replies {
  constructor(
    private readonly deps: { readonly transport: Transport; readonly logger: Logger },
    /** The calls this host owes a reply, and their keepalives. */
    readonly keepalives: CallKeepalives,
  ) {}

  /** The outcome of a turn run with `Dispatch.runLocally`, settled in-process. */
  settleLocally(
    replyTo: string,
    outcome: TurnOutcome,
    type: ActorType,
    actorId: string,
    method: string,
  ): void {
    const transport = this.deps.transport;
    if (outcome.ok) {
      transport.settleLocally(replyTo, true, outcome.value);
      return;
    }
    if (!outcome.expired) this.logFailure(outcome.error, type, actorId, method);
    // The caller sees what it would have decoded from an error reply: a typed TroupeError.
    transport.settleLocally(replyTo, false, fromWireError(toWireError(outcome.error)));
  }

  /** The reply of a turn that came in as a call (see {@link InboundTurn}). */
  sendReply(reply: string, outcome: TurnOutcome, type: ActorType, actorId: string, method: string): void {
    if (outcome.ok) {
      let data: Uint8Array;
      try {
        data = encodeResult(outcome.value);
      } catch (err) {
        repeatsOf(this.deps.logger).error(
          `result not encoded:${type.name}:${method}`,
          "result could not be encoded",
          { actorType: type.name, actorId, method, err },
        );
        data = encodeError(new MalformedMessageError(`result of ${type.name}.${method} cannot be encoded`));
      }
      this.replySafely(reply, data, type, actorId, method);
      return;
    }
    if (!outcome.expired) this.logFailure(outcome.error, type, actorId, method);
    this.replySafely(reply, encodeError(outcome.error), type, actorId, method);
  }

  /** Sends a reply; one that cannot be sent (e.g. larger than max_payload) becomes a typed error reply. */
  private replySafely(
    reply: string,
    data: Uint8Array,
    type: ActorType,
    actorId: string,
    method: string,
  ): void {
    try {
      this.deps.transport.reply(reply, data);
    } catch (err) {
      repeatsOf(this.deps.logger).error(
        `reply not sent:${type.name}:${failureKind(err)}`,
        "reply could not be sent",
        { actorType: type.name, actorId, method, err },
      );
      try {
        this.deps.transport.reply(reply, encodeError(err));
      } catch (again) {
        repeatsOf(this.deps.logger).error(
          `error reply not sent:${type.name}`,
          "error reply could not be sent either",
          {
            actorType: type.name,
            actorId,
            err: again,
          },
        );
      }
    }
  }

  /**
   * A tell's turn ended. A tell refused unrun because this host no longer serves its
   * actor (the shard moved or lapsed while it waited in the mailbox) goes back to its sender on the
   * status subject it came with, and the sender sends it again; any other failure is logged here.
   */
  tellEnded(
    outcome: TurnOutcome,
    type: ActorType,
    actorId: string,
    method: string,
    tell: InboundMessage | undefined,
  ): void {
    if (outcome.ok) return;
    // Handed back on the tell's status subject: a shard this host no longer serves (the sender
    // sends it again), and a throttling refusal (the sender logs the tell dropped, typed).
    const resent = outcome.error instanceof HostShuttingDownError;
    const status = resent || outcome.error instanceof ThrottledError ? tell?.reply : undefined;
    if (status) {
      try {
        this.deps.transport.reply(status, encodeError(outcome.error));
        if (resent) return;
      } catch (err) {
        repeatsOf(this.deps.logger).warn(
          `tell not handed back:${type.name}`,
          "a refused tell could not be handed back to its sender",
          {
            actorType: type.name,
            actorId,
            err,
          },
        );
      }
    }
    this.logFailure(outcome.error, type, actorId, method, true);
  }

  /**
   * A failed call is the caller's to handle (it gets the typed error), so the host logs it as a
   * warning with its context; only failures of the runtime itself (not the handler's own errors or
   * refusals such as a full mailbox) are errors here.
   */
  private logFailure(err: unknown, type: ActorType, actorId: string, method: string, tell = false): void {
    const level =
      err instanceof TroupeError && !err.retryable && !(err instanceof ActorMethodError) ? "error" : "warn";
    const msg = tell ? "tell failed" : "call failed";
    repeatsOf(this.deps.logger)[level](`${msg}:${type.name}:${method}:${failureKind(err)}`, msg, {
      actorType: type.name,
      actorId,
      method,
      err,
    });
  }
}
