// Original file: protos/troupe/v1/throttle_service.proto


export interface HostShare {
  'hostId'?: (string);
  'ratePerSecond'?: (number | string);
  'burst'?: (number);
  'maxConcurrency'?: (number);
}

export interface HostShare__Output {
  'hostId': (string);
  'ratePerSecond': (number);
  'burst': (number);
  'maxConcurrency': (number);
}
