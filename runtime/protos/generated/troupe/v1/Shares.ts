// Original file: protos/troupe/v1/host_channel.proto

import type { PolicyShare as _troupe_v1_PolicyShare, PolicyShare__Output as _troupe_v1_PolicyShare__Output } from '../../troupe/v1/PolicyShare.js';
import type { Long } from '@grpc/proto-loader';

export interface Shares {
  'generation'?: (number | string | Long);
  'policies'?: (_troupe_v1_PolicyShare)[];
}

export interface Shares__Output {
  'generation': (number);
  'policies': (_troupe_v1_PolicyShare__Output)[];
}
