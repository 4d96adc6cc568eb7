// Original file: protos/troupe/v1/scaling_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetDecisionRequest as _troupe_v1_GetDecisionRequest, GetDecisionRequest__Output as _troupe_v1_GetDecisionRequest__Output } from '../../troupe/v1/GetDecisionRequest.js';
import type { ListDecisionsRequest as _troupe_v1_ListDecisionsRequest, ListDecisionsRequest__Output as _troupe_v1_ListDecisionsRequest__Output } from '../../troupe/v1/ListDecisionsRequest.js';
import type { ListDecisionsResponse as _troupe_v1_ListDecisionsResponse, ListDecisionsResponse__Output as _troupe_v1_ListDecisionsResponse__Output } from '../../troupe/v1/ListDecisionsResponse.js';
import type { ScalingDecision as _troupe_v1_ScalingDecision, ScalingDecision__Output as _troupe_v1_ScalingDecision__Output } from '../../troupe/v1/ScalingDecision.js';

export interface ScalingServiceClient extends grpc.Client {
  GetDecision(argument: _troupe_v1_GetDecisionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  GetDecision(argument: _troupe_v1_GetDecisionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  GetDecision(argument: _troupe_v1_GetDecisionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  GetDecision(argument: _troupe_v1_GetDecisionRequest, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  getDecision(argument: _troupe_v1_GetDecisionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  getDecision(argument: _troupe_v1_GetDecisionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  getDecision(argument: _troupe_v1_GetDecisionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  getDecision(argument: _troupe_v1_GetDecisionRequest, callback: grpc.requestCallback<_troupe_v1_ScalingDecision__Output>): grpc.ClientUnaryCall;
  
  ListDecisions(argument: _troupe_v1_ListDecisionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  ListDecisions(argument: _troupe_v1_ListDecisionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  ListDecisions(argument: _troupe_v1_ListDecisionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  ListDecisions(argument: _troupe_v1_ListDecisionsRequest, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  listDecisions(argument: _troupe_v1_ListDecisionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  listDecisions(argument: _troupe_v1_ListDecisionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  listDecisions(argument: _troupe_v1_ListDecisionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  listDecisions(argument: _troupe_v1_ListDecisionsRequest, callback: grpc.requestCallback<_troupe_v1_ListDecisionsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ScalingServiceHandlers extends grpc.UntypedServiceImplementation {
  GetDecision: grpc.handleUnaryCall<_troupe_v1_GetDecisionRequest__Output, _troupe_v1_ScalingDecision>;
  
  ListDecisions: grpc.handleUnaryCall<_troupe_v1_ListDecisionsRequest__Output, _troupe_v1_ListDecisionsResponse>;
  
}

export interface ScalingServiceDefinition extends grpc.ServiceDefinition {
  GetDecision: MethodDefinition<_troupe_v1_GetDecisionRequest, _troupe_v1_ScalingDecision, _troupe_v1_GetDecisionRequest__Output, _troupe_v1_ScalingDecision__Output>
  ListDecisions: MethodDefinition<_troupe_v1_ListDecisionsRequest, _troupe_v1_ListDecisionsResponse, _troupe_v1_ListDecisionsRequest__Output, _troupe_v1_ListDecisionsResponse__Output>
}
