// Original file: protos/troupe/v1/throttle_service.proto

import type { KeyStatus as _troupe_v1_KeyStatus, KeyStatus__Output as _troupe_v1_KeyStatus__Output } from '../../troupe/v1/KeyStatus.js';

export interface PolicyStatus {
  'policy'?: (string);
  'keys'?: (_troupe_v1_KeyStatus)[];
}

export interface PolicyStatus__Output {
  'policy': (string);
  'keys': (_troupe_v1_KeyStatus__Output)[];
}
