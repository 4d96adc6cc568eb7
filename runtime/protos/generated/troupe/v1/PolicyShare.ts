// Original file: protos/troupe/v1/host_channel.proto

import type { ThrottlePolicy as _troupe_v1_ThrottlePolicy, ThrottlePolicy__Output as _troupe_v1_ThrottlePolicy__Output } from '../../troupe/v1/ThrottlePolicy.js';
import type { Limit as _troupe_v1_Limit, Limit__Output as _troupe_v1_Limit__Output } from '../../troupe/v1/Limit.js';
import type { KeyShare as _troupe_v1_KeyShare, KeyShare__Output as _troupe_v1_KeyShare__Output } from '../../troupe/v1/KeyShare.js';

export interface PolicyShare {
  'policy'?: (_troupe_v1_ThrottlePolicy | null);
  'defaultShare'?: (_troupe_v1_Limit | null);
  'keys'?: (_troupe_v1_KeyShare)[];
}

export interface PolicyShare__Output {
  'policy': (_troupe_v1_ThrottlePolicy__Output | null);
  'defaultShare': (_troupe_v1_Limit__Output | null);
  'keys': (_troupe_v1_KeyShare__Output)[];
}
