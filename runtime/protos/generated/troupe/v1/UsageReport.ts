// Original file: protos/troupe/v1/host_channel.proto

import type { KeyUsage as _troupe_v1_KeyUsage, KeyUsage__Output as _troupe_v1_KeyUsage__Output } from '../../troupe/v1/KeyUsage.js';
import type { HostLoad as _troupe_v1_HostLoad, HostLoad__Output as _troupe_v1_HostLoad__Output } from '../../troupe/v1/HostLoad.js';

export interface UsageReport {
  'keys'?: (_troupe_v1_KeyUsage)[];
  'load'?: (_troupe_v1_HostLoad | null);
}

export interface UsageReport__Output {
  'keys': (_troupe_v1_KeyUsage__Output)[];
  'load': (_troupe_v1_HostLoad__Output | null);
}
