// Original file: protos/troupe/v1/throttle_service.proto

import type { HostShare as _troupe_v1_HostShare, HostShare__Output as _troupe_v1_HostShare__Output } from '../../troupe/v1/HostShare.js';

export interface KeyStatus {
  'key'?: (string);
  'allowedPerSecond'?: (number | string);
  'refusedPerSecond'?: (number | string);
  'shares'?: (_troupe_v1_HostShare)[];
}

export interface KeyStatus__Output {
  'key': (string);
  'allowedPerSecond': (number);
  'refusedPerSecond': (number);
  'shares': (_troupe_v1_HostShare__Output)[];
}
