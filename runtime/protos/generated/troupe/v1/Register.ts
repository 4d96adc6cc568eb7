// Original file: protos/troupe/v1/host_channel.proto


export interface Register {
  'hostId'?: (string);
  'actorTypes'?: (string)[];
  'version'?: (string);
  'role'?: (string);
  'group'?: (string);
}

export interface Register__Output {
  'hostId': (string);
  'actorTypes': (string)[];
  'version': (string);
  'role': (string);
  'group': (string);
}
