// Original file: protos/troupe/v1/host_channel.proto

import type { Limit as _troupe_v1_Limit, Limit__Output as _troupe_v1_Limit__Output } from '../../troupe/v1/Limit.js';

export interface KeyShare {
  'key'?: (string);
  'share'?: (_troupe_v1_Limit | null);
}

export interface KeyShare__Output {
  'key': (string);
  'share': (_troupe_v1_Limit__Output | null);
}
