/**
 * Inbound dispatch: a call or tell for a shard this host serves, from NATS or delivered in-process
 * by a caller of the same connection (`LocalRoute`), is decoded and checked (headers, size, shard,
 * method, ownership), becomes an {@link InboundTurn}, runs through the inbound interceptors, and is
 * queued on its actor's mailbox in the catalog.
 */
import type { ActorType, Catalog, Turn, TurnOutcome } from "../actor/index.js";
import {
  ConfigurationError,
  HostShuttingDownError,
  MalformedMessageError,
  PayloadTooLargeError,
  TroupeError,
  UnknownMethodError,
} from "../errors.js";
import {
  chainIdle,
  type InboundDelivery,
  type InboundInterceptor,
  type InboundKind,
  interceptTurn,
  NOT_SYNCHRONOUS,
  OBSERVED,
  observersOf,
  recordHeaders,
  type TurnScope,
} from "../interceptors/index.js";
import { failureKind, type Logger, repeatsOf } from "../log.js";
import {
  type CallEnvelope,
  type DecodeLimits,
  decodeCall,
  encodeError,
  inboxUserOf,
} from "../messaging/index.js";
import type { ShardOwnership } from "../placement/index.js";
import { shardOf } from "../placement/index.js";
import {
  assertWellFormedHeaders,
  type InboundMessage,
  type MessageHeaders,
  type RunLocally,
  type SubscriptionHandle,
  type Transport,
} from "../transport/index.js";
import { Admission } from "./admission.js";
import type { CallKeepalives } from "./call-keepalives.js";
import { InboundTurn, type Replies } from "./replies.js";

export interface ServedType {
  readonly type: ActorType;
  readonly catalog: Catalog;
  /** Stateless types: one subscription per shard. */
  readonly subscriptions: SubscriptionHandle[];
  /** Placed types: the shards this host holds. */
  readonly ownership: ShardOwnership | undefined;
  /** The core NATS queue group of the type's shard subjects. */
  readonly queue: string;
}

/** Refusal of a call whose shard this host does not (or no longer) hold: never executed, so retried. */
export function notServedHere(type: string, shard: number): HostShuttingDownError {
  return new HostShuttingDownError(`shard ${shard} of ${type} is not served by this host; not executed`, {
    details: { actorType: type, shard, reason: "shard-moved" },
  });
}

export function unknownMethod(type: string, method: string): UnknownMethodError {
  return new UnknownMethodError(`${type} has no handler "${method}"`, {
    details: { actorType: type, method },
  });
}

export class Dispatch {
  /** The fast path when every inbound interceptor has a synchronous form (see admission.ts). */
  private readonly admission: Admission | undefined;
  /**
   * The built-ins of the inbound chain that observe every turn (tracing): the only links a turn
   * run with {@link runLocally} goes through, its runner having run the whole chain already.
   */
  private readonly observers: readonly InboundInterceptor[];
  /** The observers' synchronous form (every built-in has one). */
  private readonly observing: Admission | undefined;

  constructor(
    private readonly deps: { readonly transport: Transport; readonly logger: Logger },
    private readonly served: ReadonlyMap<string, ServedType>,
    private readonly limits: Partial<DecodeLimits>,
    /** The inbound interceptors, outermost first (empty: no chain runs). */
    private readonly inbound: readonly InboundInterceptor[],
    private readonly keepalives: CallKeepalives,
    private readonly replies: Replies,
    private readonly isServing: () => boolean,
    /** Derive `ctx.user` from a call's or tell's reply subject (host option `userFromInbox`). */
    private readonly userFromInbox = false,
  ) {
    this.admission = Admission.of(inbound);
    this.observers = observersOf(inbound);
    this.observing = Admission.of(this.observers);
  }

  /**
   * Whether a call to `typeName`/`actorId` can be delivered to this host without the broker: it
   * serves the type and (for placed types) holds the actor's shard right now.
   */
  servesLocally(typeName: string, actorId: string): boolean {
    if (!this.isServing()) return false;
    const s = this.served.get(typeName);
    if (!s) return false;
    return !s.ownership || s.ownership.serves(shardOf(actorId, s.type.shards));
  }

  /**
   * Delivers an encoded call (or tell, without `replyTo`) that a caller on this same connection
   * made, exactly as if it had arrived from NATS: same decoding, checks, turn and reply bytes.
   */
  deliverLocally(
    typeName: string,
    actorId: string,
    subject: string,
    data: Uint8Array,
    replyTo: string | undefined,
    headers: Record<string, string> | undefined,
  ): void {
    const s = this.served.get(typeName);
    if (!s) throw new ConfigurationError(`this host does not serve ${typeName}`);
    // The caller learns of an oversize message at once, as it would from the broker's limit.
    const limit = this.limits.maxBytes ?? Number.POSITIVE_INFINITY;
    if (data.length > limit) {
      throw new PayloadTooLargeError(
        `a message of ${data.length} bytes exceeds this host's limit of ${limit}`,
        {
          details: { size: data.length, limit },
        },
      );
    }
    const shard = shardOf(actorId, s.type.shards);
    const msg: InboundMessage = { subject, data, reply: replyTo, headers: headers && recordHeaders(headers) };
    this.onCall(s.type, s.catalog, s.ownership, shard, s.queue, msg);
  }

  /**
   * Runs a call whose arguments the caller just decoded from a message of its own (a job, an
   * event, a reminder) and does not keep: no encoding either way. Same checks as a call from NATS
   * (method, shard ownership, deadline); the outcome is settled on the caller's `replyTo` with
   * {@link Transport.settleLocally}, the error being the handler's own typed error.
   */
  readonly runLocally: RunLocally = (
    typeName,
    actorId,
    subject,
    method,
    args,
    timeoutMs,
    replyTo,
    headers,
  ) => {
    const s = this.served.get(typeName);
    if (!s) throw new ConfigurationError(`this host does not serve ${typeName}`);
    const type = s.type;
    const transport = this.deps.transport;
    if (!type.handlers.has(method)) {
      transport.settleLocally(replyTo, false, unknownMethod(type.name, method));
      return;
    }
    const shard = shardOf(actorId, type.shards);
    const now = performance.now();
    if (s.ownership && !s.ownership.serves(shard, now)) {
      transport.settleLocally(replyTo, false, notServedHere(type.name, shard));
      return;
    }
    const turn = new InboundTurn(this.replies, type, actorId, method, args, now + timeoutMs, replyTo, true);
    if (chainIdle(this.observers)) {
      s.catalog.dispatch(actorId, turn, now);
      return;
    }
    const carried = headers && recordHeaders(headers);
    const delivery: InboundDelivery = { subject, traceHeaders: carried, queueGroup: s.queue };
    if (this.observing && this.observing.applies() !== NOT_SYNCHRONOUS) {
      this.observing.dispatch("call", type.name, s.catalog, actorId, carried, turn, now, delivery);
      return;
    }
    this.dispatchIntercepted(this.observers, "call", type, s.catalog, actorId, carried, delivery, turn);
  };

  /** A call or tell message for one shard of `type`: checks, then a turn (see {@link InboundTurn}). */
  onCall(
    type: ActorType,
    catalog: Catalog,
    ownership: ShardOwnership | undefined,
    shard: number,
    queue: string,
    msg: InboundMessage,
  ): void {
    // The reply subject is read only where it is used: nats.js decodes it on first access, and a
    // tell's (there for the broker's "no responders") is needed only to refuse it.
    let call: CallEnvelope;
    try {
      assertWellFormedHeaders(msg);
      call = decodeCall(msg.data, this.limits);
      if (shardOf(call.actorId, type.shards) !== shard) {
        throw new MalformedMessageError(`actor id routed to the wrong shard of ${type.name}`, {
          details: { actorType: type.name, shard },
        });
      }
      if (!type.handlers.has(call.method)) throw unknownMethod(type.name, call.method);
    } catch (err) {
      repeatsOf(this.deps.logger).warn(`refused a call:${type.name}:${failureKind(err)}`, "refused a call", {
        actorType: type.name,
        subject: msg.subject,
        bytes: msg.data.length,
        code: err instanceof TroupeError ? err.code : undefined,
        err: err instanceof TroupeError ? err.message : err,
      });
      const reply = msg.reply;
      if (reply) this.deps.transport.reply(reply, encodeError(err));
      return;
    }
    const now = performance.now();
    if (ownership && !ownership.serves(shard, now)) {
      // The lease lapsed on our clock (e.g. this process was paused): serve nothing from it. A
      // tell's sender learns it too (on the status subject it sent), and sends it again.
      const reply = msg.reply;
      if (reply) this.deps.transport.reply(reply, encodeError(notServedHere(type.name, shard)));
      return;
    }
    const method = call.method;
    const actorId = call.actorId;
    // A tell is never answered, whatever reply subject it came with.
    const answerTo = call.oneWay ? undefined : msg.reply;
    const turn = new InboundTurn(
      this.replies,
      type,
      actorId,
      method,
      call.args,
      now + call.timeoutMs,
      answerTo,
      false,
      call.oneWay ? msg : undefined,
    );
    if (answerTo) this.keepalives.add(turn, now);
    if (chainIdle(this.inbound)) {
      catalog.dispatch(actorId, turn, now);
      return;
    }
    const kind = answerTo ? "call" : "tell";
    // A tell's reply subject is the one its broker and host answers go to: it names a user too.
    const user = this.userFromInbox ? inboxUserOf(msg.reply) : undefined;
    const synchronous = this.admission ? this.admission.applies() : NOT_SYNCHRONOUS;
    if (synchronous !== NOT_SYNCHRONOUS) {
      // Built only for a span, whose subject is read from the message (decoded on first access).
      const observed: InboundDelivery | undefined =
        synchronous === OBSERVED ? { subject: msg, traceHeaders: msg.headers, queueGroup: queue } : undefined;
      this.admission?.dispatch(kind, type.name, catalog, actorId, msg.headers, turn, now, observed, user);
      return;
    }
    const delivery: InboundDelivery = { subject: msg, traceHeaders: msg.headers, queueGroup: queue };
    this.dispatchIntercepted(this.inbound, kind, type, catalog, actorId, msg.headers, delivery, turn, user);
  }

  /**
   * Runs a call or tell through `chain`: the chain's `next()` queues the turn (its handler run in
   * the scope an interceptor set, e.g. the turn's span) and resolves with its outcome; what the
   * chain ends with (the turn's outcome, or an interceptor's refusal) settles the turn (reply or
   * log). The host never throws here.
   */
  private dispatchIntercepted(
    chain: readonly InboundInterceptor[],
    kind: InboundKind,
    type: ActorType,
    catalog: Catalog,
    actorId: string,
    headers: MessageHeaders | undefined,
    delivery: InboundDelivery,
    turn: InboundTurn,
    user?: string,
  ): void {
    let ran: TurnOutcome | undefined;
    const run = (scope: TurnScope | undefined) =>
      new Promise<unknown>((resolve, reject) => {
        const inner: Turn = {
          method: turn.method,
          args: turn.args,
          deadline: turn.deadline,
          scope,
          settle(outcome) {
            ran = outcome;
            if (outcome.ok) resolve(outcome.value);
            else reject(outcome.error);
          },
        };
        catalog.dispatch(actorId, inner, performance.now());
      });
    interceptTurn(
      chain,
      {
        kind,
        actorType: type.name,
        actorId,
        method: turn.method,
        headers,
        timeoutMs: turn.deadline - performance.now(),
        delivery,
        user,
      },
      run,
    ).then(
      (value) => turn.settle({ ok: true, value }),
      // The turn's own failure keeps its outcome (e.g. `expired`); a refusal is a new failure.
      (error: unknown) => turn.settle(ran && !ran.ok && ran.error === error ? ran : { ok: false, error }),
    );
  }
}
