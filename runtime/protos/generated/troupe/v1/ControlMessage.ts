// Original file: protos/troupe/v1/host_channel.proto

import type { Registered as _troupe_v1_Registered, Registered__Output as _troupe_v1_Registered__Output } from '../../troupe/v1/Registered.js';
import type { Shares as _troupe_v1_Shares, Shares__Output as _troupe_v1_Shares__Output } from '../../troupe/v1/Shares.js';

export interface ControlMessage {
  'registered'?: (_troupe_v1_Registered | null);
  'shares'?: (_troupe_v1_Shares | null);
  'body'?: "registered"|"shares";
}

export interface ControlMessage__Output {
  'registered'?: (_troupe_v1_Registered__Output | null);
  'shares'?: (_troupe_v1_Shares__Output | null);
  'body'?: "registered"|"shares";
}
