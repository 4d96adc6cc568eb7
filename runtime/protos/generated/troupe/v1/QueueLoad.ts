// Original file: protos/troupe/v1/scaling_service.proto

import type { Long } from '@grpc/proto-loader';

export interface QueueLoad {
  'name'?: (string);
  'pending'?: (number | string | Long);
  'ackPending'?: (number | string | Long);
  'arrivalPerSecond'?: (number | string);
  'completionPerSecond'?: (number | string);
  'oldestWaitSeconds'?: (number | string);
}

export interface QueueLoad__Output {
  'name': (string);
  'pending': (number);
  'ackPending': (number);
  'arrivalPerSecond': (number);
  'completionPerSecond': (number);
  'oldestWaitSeconds': (number);
}
