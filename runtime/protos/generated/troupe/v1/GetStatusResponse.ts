// Original file: protos/troupe/v1/throttle_service.proto

import type { ConnectedHost as _troupe_v1_ConnectedHost, ConnectedHost__Output as _troupe_v1_ConnectedHost__Output } from '../../troupe/v1/ConnectedHost.js';
import type { PolicyStatus as _troupe_v1_PolicyStatus, PolicyStatus__Output as _troupe_v1_PolicyStatus__Output } from '../../troupe/v1/PolicyStatus.js';

export interface GetStatusResponse {
  'hosts'?: (_troupe_v1_ConnectedHost)[];
  'policies'?: (_troupe_v1_PolicyStatus)[];
}

export interface GetStatusResponse__Output {
  'hosts': (_troupe_v1_ConnectedHost__Output)[];
  'policies': (_troupe_v1_PolicyStatus__Output)[];
}
