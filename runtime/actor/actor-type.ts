/**
 * What the runtime knows about an actor class: its wire name, handlers and options, read once
 * from the class and cached.
 */
import { ConfigurationError } from "../errors.js";
import { assertToken } from "../messaging/index.js";
import { Actor } from "./actor.js";
import { type ActorClass, RESERVED_HANDLER_NAMES } from "./actor-ref.js";
import type { ActorOptions } from "./actor-shape.js";

export const DEFAULT_SHARDS = 64;
export const MAX_SHARDS = 4096;
export const DEFAULT_IDLE_AFTER_MS = 5 * 60_000;
export const DEFAULT_MAILBOX_CAPACITY = 1000;

export interface ActorType {
  readonly name: string;
  readonly cls: ActorClass;
  readonly shards: number;
  readonly idleAfterMs: number;
  readonly mailboxCapacity: number;
  readonly defaultTimeoutMs: number | undefined;
  /** Handler names callable from the wire. */
  readonly handlers: ReadonlySet<string>;
  /** Present when the type is stateful. */
  readonly initialState: (() => unknown) | undefined;
  /** A stateless worker type: no leases, calls load-balanced over every host of the type. */
  readonly stateless: boolean;
}

const cache = new WeakMap<ActorClass, ActorType>();

export function actorTypeOf(cls: ActorClass): ActorType {
  let t = cache.get(cls);
  if (!t) {
    t = describe(cls);
    cache.set(cls, t);
  }
  return t;
}

/** Just the wire name and shard count, which callers need (no handler scan). */
export function typeNameOf(cls: ActorClass): string {
  return cls.typeName ?? cls.name;
}

function describe(cls: ActorClass): ActorType {
  if (!(cls.prototype instanceof Actor)) {
    throw new ConfigurationError(`${cls.name} does not extend Actor`);
  }
  const name = typeNameOf(cls);
  assertToken("actor type name", name);
  const options: ActorOptions = cls.options ?? {};
  const shards = options.shards ?? DEFAULT_SHARDS;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new ConfigurationError(`${name}: shards must be an integer in 1..${MAX_SHARDS}, got ${shards}`);
  }
  const mailboxCapacity = options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
  if (!Number.isInteger(mailboxCapacity) || mailboxCapacity < 1) {
    throw new ConfigurationError(`${name}: mailboxCapacity must be a positive integer`);
  }
  const idleAfterMs = options.idleAfterMs ?? DEFAULT_IDLE_AFTER_MS;
  if (!(idleAfterMs > 0)) throw new ConfigurationError(`${name}: idleAfterMs must be positive`);
  const initialState = cls.initialState;
  if (initialState !== undefined && typeof initialState !== "function") {
    throw new ConfigurationError(`${name}: static initialState must be a function returning the state`);
  }
  const stateless = options.stateless === true;
  if (stateless && initialState !== undefined) {
    throw new ConfigurationError(`${name}: a stateless worker type cannot declare initialState`);
  }
  return {
    name,
    cls,
    shards,
    idleAfterMs,
    mailboxCapacity,
    defaultTimeoutMs: options.defaultTimeoutMs,
    handlers: handlerNames(cls, name),
    initialState,
    stateless,
  };
}

const LIFECYCLE = new Set(["onActivate", "onDeactivate"]);

function handlerNames(cls: ActorClass, typeName: string): Set<string> {
  const names = new Set<string>();
  for (let proto = cls.prototype; proto && proto !== Actor.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key.startsWith("_") || LIFECYCLE.has(key) || key in Object.prototype) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, key);
      if (!desc || typeof desc.value !== "function") continue;
      if (RESERVED_HANDLER_NAMES.has(key) || Object.hasOwn(Actor.prototype, key)) {
        throw new ConfigurationError(`${typeName}.${key}: "${key}" is reserved and cannot be a handler name`);
      }
      names.add(key);
    }
  }
  return names;
}
