// Original file: protos/troupe/v1/policy.proto


export interface Limit {
  'ratePerSecond'?: (number | string);
  'burst'?: (number);
  'maxConcurrency'?: (number);
}

export interface Limit__Output {
  'ratePerSecond': (number);
  'burst': (number);
  'maxConcurrency': (number);
}
