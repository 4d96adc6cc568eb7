// Original file: protos/troupe/v1/host_channel.proto


export interface Registered {
  'hostId'?: (string);
  'reportIntervalMs'?: (number);
}

export interface Registered__Output {
  'hostId': (string);
  'reportIntervalMs': (number);
}
