// Original file: protos/troupe/v1/host_channel.proto

import type { KeyUsage as _troupe_v1_KeyUsage, KeyUsage__Output as _troupe_v1_KeyUsage__Output } from '../../troupe/v1/KeyUsage.js';

export interface UsageReport {
  'keys'?: (_troupe_v1_KeyUsage)[];
}

export interface UsageReport__Output {
  'keys': (_troupe_v1_KeyUsage__Output)[];
}
