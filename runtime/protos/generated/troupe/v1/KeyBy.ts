// Original file: protos/troupe/v1/policy.proto

export const KeyBy = {
  KEY_BY_NONE: 'KEY_BY_NONE',
  KEY_BY_CALLER: 'KEY_BY_CALLER',
  KEY_BY_TENANT: 'KEY_BY_TENANT',
  KEY_BY_ACTOR_TYPE: 'KEY_BY_ACTOR_TYPE',
  KEY_BY_METHOD: 'KEY_BY_METHOD',
  KEY_BY_FUNCTION: 'KEY_BY_FUNCTION',
  KEY_BY_USER: 'KEY_BY_USER',
} as const;

export type KeyBy =
  | 'KEY_BY_NONE'
  | 0
  | 'KEY_BY_CALLER'
  | 1
  | 'KEY_BY_TENANT'
  | 2
  | 'KEY_BY_ACTOR_TYPE'
  | 3
  | 'KEY_BY_METHOD'
  | 4
  | 'KEY_BY_FUNCTION'
  | 5
  | 'KEY_BY_USER'
  | 6

export type KeyBy__Output = typeof KeyBy[keyof typeof KeyBy]
