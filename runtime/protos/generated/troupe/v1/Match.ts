// Original file: protos/troupe/v1/policy.proto


export interface Match {
  'callers'?: (string)[];
  'tenants'?: (string)[];
  'actorTypes'?: (string)[];
  'methods'?: (string)[];
  'hops'?: (string)[];
  'users'?: (string)[];
}

export interface Match__Output {
  'callers': (string)[];
  'tenants': (string)[];
  'actorTypes': (string)[];
  'methods': (string)[];
  'hops': (string)[];
  'users': (string)[];
}
