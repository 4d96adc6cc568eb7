// Original file: protos/troupe/v1/throttle_service.proto

import type { ThrottlePolicy as _troupe_v1_ThrottlePolicy, ThrottlePolicy__Output as _troupe_v1_ThrottlePolicy__Output } from '../../troupe/v1/ThrottlePolicy.js';

export interface SetPolicyRequest {
  'policy'?: (_troupe_v1_ThrottlePolicy | null);
}

export interface SetPolicyRequest__Output {
  'policy': (_troupe_v1_ThrottlePolicy__Output | null);
}
