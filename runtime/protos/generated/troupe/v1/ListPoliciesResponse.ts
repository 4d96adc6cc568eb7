// Original file: protos/troupe/v1/throttle_service.proto

import type { ThrottlePolicy as _troupe_v1_ThrottlePolicy, ThrottlePolicy__Output as _troupe_v1_ThrottlePolicy__Output } from '../../troupe/v1/ThrottlePolicy.js';

export interface ListPoliciesResponse {
  'policies'?: (_troupe_v1_ThrottlePolicy)[];
}

export interface ListPoliciesResponse__Output {
  'policies': (_troupe_v1_ThrottlePolicy__Output)[];
}
