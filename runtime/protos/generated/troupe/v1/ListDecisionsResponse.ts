// Original file: protos/troupe/v1/scaling_service.proto

import type { ScalingDecision as _troupe_v1_ScalingDecision, ScalingDecision__Output as _troupe_v1_ScalingDecision__Output } from '../../troupe/v1/ScalingDecision.js';

export interface ListDecisionsResponse {
  'decisions'?: (_troupe_v1_ScalingDecision)[];
}

export interface ListDecisionsResponse__Output {
  'decisions': (_troupe_v1_ScalingDecision__Output)[];
}
