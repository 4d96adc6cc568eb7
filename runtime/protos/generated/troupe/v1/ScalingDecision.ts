// Original file: protos/troupe/v1/scaling_service.proto

import type { QueueLoad as _troupe_v1_QueueLoad, QueueLoad__Output as _troupe_v1_QueueLoad__Output } from '../../troupe/v1/QueueLoad.js';
import type { HostLoadView as _troupe_v1_HostLoadView, HostLoadView__Output as _troupe_v1_HostLoadView__Output } from '../../troupe/v1/HostLoadView.js';
import type { Long } from '@grpc/proto-loader';

export interface ScalingDecision {
  'group'?: (string);
  'currentHosts'?: (number);
  'desiredHosts'?: (number);
  'rawDesiredHosts'?: (number);
  'reason'?: (string);
  'active'?: (boolean);
  'minHosts'?: (number);
  'maxHosts'?: (number);
  'backlog'?: (number | string | Long);
  'arrivalPerSecond'?: (number | string);
  'completionPerSecond'?: (number | string);
  'oldestWaitSeconds'?: (number | string);
  'mailboxDepth'?: (number | string | Long);
  'turnsInFlight'?: (number | string | Long);
  'throttledPerSecond'?: (number | string);
  'cpu'?: (number | string);
  'queues'?: (_troupe_v1_QueueLoad)[];
  'hosts'?: (_troupe_v1_HostLoadView)[];
  'limitedBy'?: (string);
  'ageMs'?: (number);
}

export interface ScalingDecision__Output {
  'group': (string);
  'currentHosts': (number);
  'desiredHosts': (number);
  'rawDesiredHosts': (number);
  'reason': (string);
  'active': (boolean);
  'minHosts': (number);
  'maxHosts': (number);
  'backlog': (number);
  'arrivalPerSecond': (number);
  'completionPerSecond': (number);
  'oldestWaitSeconds': (number);
  'mailboxDepth': (number);
  'turnsInFlight': (number);
  'throttledPerSecond': (number);
  'cpu': (number);
  'queues': (_troupe_v1_QueueLoad__Output)[];
  'hosts': (_troupe_v1_HostLoadView__Output)[];
  'limitedBy': (string);
  'ageMs': (number);
}
