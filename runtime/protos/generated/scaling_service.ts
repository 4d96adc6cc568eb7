import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { GetDecisionRequest as _troupe_v1_GetDecisionRequest, GetDecisionRequest__Output as _troupe_v1_GetDecisionRequest__Output } from './troupe/v1/GetDecisionRequest.js';
import type { HostLoadView as _troupe_v1_HostLoadView, HostLoadView__Output as _troupe_v1_HostLoadView__Output } from './troupe/v1/HostLoadView.js';
import type { ListDecisionsRequest as _troupe_v1_ListDecisionsRequest, ListDecisionsRequest__Output as _troupe_v1_ListDecisionsRequest__Output } from './troupe/v1/ListDecisionsRequest.js';
import type { ListDecisionsResponse as _troupe_v1_ListDecisionsResponse, ListDecisionsResponse__Output as _troupe_v1_ListDecisionsResponse__Output } from './troupe/v1/ListDecisionsResponse.js';
import type { QueueLoad as _troupe_v1_QueueLoad, QueueLoad__Output as _troupe_v1_QueueLoad__Output } from './troupe/v1/QueueLoad.js';
import type { ScalingDecision as _troupe_v1_ScalingDecision, ScalingDecision__Output as _troupe_v1_ScalingDecision__Output } from './troupe/v1/ScalingDecision.js';
import type { ScalingServiceClient as _troupe_v1_ScalingServiceClient, ScalingServiceDefinition as _troupe_v1_ScalingServiceDefinition } from './troupe/v1/ScalingService.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  troupe: {
    v1: {
      GetDecisionRequest: MessageTypeDefinition<_troupe_v1_GetDecisionRequest, _troupe_v1_GetDecisionRequest__Output>
      HostLoadView: MessageTypeDefinition<_troupe_v1_HostLoadView, _troupe_v1_HostLoadView__Output>
      ListDecisionsRequest: MessageTypeDefinition<_troupe_v1_ListDecisionsRequest, _troupe_v1_ListDecisionsRequest__Output>
      ListDecisionsResponse: MessageTypeDefinition<_troupe_v1_ListDecisionsResponse, _troupe_v1_ListDecisionsResponse__Output>
      QueueLoad: MessageTypeDefinition<_troupe_v1_QueueLoad, _troupe_v1_QueueLoad__Output>
      ScalingDecision: MessageTypeDefinition<_troupe_v1_ScalingDecision, _troupe_v1_ScalingDecision__Output>
      ScalingService: SubtypeConstructor<typeof grpc.Client, _troupe_v1_ScalingServiceClient> & { service: _troupe_v1_ScalingServiceDefinition }
    }
  }
}

