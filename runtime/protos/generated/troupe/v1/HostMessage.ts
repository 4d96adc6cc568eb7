// Original file: protos/troupe/v1/host_channel.proto

import type { Register as _troupe_v1_Register, Register__Output as _troupe_v1_Register__Output } from '../../troupe/v1/Register.js';
import type { UsageReport as _troupe_v1_UsageReport, UsageReport__Output as _troupe_v1_UsageReport__Output } from '../../troupe/v1/UsageReport.js';

export interface HostMessage {
  'register'?: (_troupe_v1_Register | null);
  'usage'?: (_troupe_v1_UsageReport | null);
  'body'?: "register"|"usage";
}

export interface HostMessage__Output {
  'register'?: (_troupe_v1_Register__Output | null);
  'usage'?: (_troupe_v1_UsageReport__Output | null);
  'body'?: "register"|"usage";
}
