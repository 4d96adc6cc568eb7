// Original file: protos/troupe/v1/throttle_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeletePolicyRequest as _troupe_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _troupe_v1_DeletePolicyRequest__Output } from '../../troupe/v1/DeletePolicyRequest.js';
import type { DeletePolicyResponse as _troupe_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _troupe_v1_DeletePolicyResponse__Output } from '../../troupe/v1/DeletePolicyResponse.js';
import type { GetPolicyRequest as _troupe_v1_GetPolicyRequest, GetPolicyRequest__Output as _troupe_v1_GetPolicyRequest__Output } from '../../troupe/v1/GetPolicyRequest.js';
import type { GetStatusRequest as _troupe_v1_GetStatusRequest, GetStatusRequest__Output as _troupe_v1_GetStatusRequest__Output } from '../../troupe/v1/GetStatusRequest.js';
import type { GetStatusResponse as _troupe_v1_GetStatusResponse, GetStatusResponse__Output as _troupe_v1_GetStatusResponse__Output } from '../../troupe/v1/GetStatusResponse.js';
import type { ListPoliciesRequest as _troupe_v1_ListPoliciesRequest, ListPoliciesRequest__Output as _troupe_v1_ListPoliciesRequest__Output } from '../../troupe/v1/ListPoliciesRequest.js';
import type { ListPoliciesResponse as _troupe_v1_ListPoliciesResponse, ListPoliciesResponse__Output as _troupe_v1_ListPoliciesResponse__Output } from '../../troupe/v1/ListPoliciesResponse.js';
import type { SetPolicyRequest as _troupe_v1_SetPolicyRequest, SetPolicyRequest__Output as _troupe_v1_SetPolicyRequest__Output } from '../../troupe/v1/SetPolicyRequest.js';
import type { ThrottlePolicy as _troupe_v1_ThrottlePolicy, ThrottlePolicy__Output as _troupe_v1_ThrottlePolicy__Output } from '../../troupe/v1/ThrottlePolicy.js';

export interface ThrottleServiceClient extends grpc.Client {
  DeletePolicy(argument: _troupe_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _troupe_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _troupe_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _troupe_v1_DeletePolicyRequest, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _troupe_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _troupe_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _troupe_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _troupe_v1_DeletePolicyRequest, callback: grpc.requestCallback<_troupe_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  
  GetPolicy(argument: _troupe_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _troupe_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _troupe_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _troupe_v1_GetPolicyRequest, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _troupe_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _troupe_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _troupe_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _troupe_v1_GetPolicyRequest, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _troupe_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _troupe_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _troupe_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _troupe_v1_GetStatusRequest, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _troupe_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _troupe_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _troupe_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _troupe_v1_GetStatusRequest, callback: grpc.requestCallback<_troupe_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  ListPolicies(argument: _troupe_v1_ListPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _troupe_v1_ListPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _troupe_v1_ListPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  ListPolicies(argument: _troupe_v1_ListPoliciesRequest, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _troupe_v1_ListPoliciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _troupe_v1_ListPoliciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _troupe_v1_ListPoliciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  listPolicies(argument: _troupe_v1_ListPoliciesRequest, callback: grpc.requestCallback<_troupe_v1_ListPoliciesResponse__Output>): grpc.ClientUnaryCall;
  
  SetPolicy(argument: _troupe_v1_SetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  SetPolicy(argument: _troupe_v1_SetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  SetPolicy(argument: _troupe_v1_SetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  SetPolicy(argument: _troupe_v1_SetPolicyRequest, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  setPolicy(argument: _troupe_v1_SetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  setPolicy(argument: _troupe_v1_SetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  setPolicy(argument: _troupe_v1_SetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  setPolicy(argument: _troupe_v1_SetPolicyRequest, callback: grpc.requestCallback<_troupe_v1_ThrottlePolicy__Output>): grpc.ClientUnaryCall;
  
}

export interface ThrottleServiceHandlers extends grpc.UntypedServiceImplementation {
  DeletePolicy: grpc.handleUnaryCall<_troupe_v1_DeletePolicyRequest__Output, _troupe_v1_DeletePolicyResponse>;
  
  GetPolicy: grpc.handleUnaryCall<_troupe_v1_GetPolicyRequest__Output, _troupe_v1_ThrottlePolicy>;
  
  GetStatus: grpc.handleUnaryCall<_troupe_v1_GetStatusRequest__Output, _troupe_v1_GetStatusResponse>;
  
  ListPolicies: grpc.handleUnaryCall<_troupe_v1_ListPoliciesRequest__Output, _troupe_v1_ListPoliciesResponse>;
  
  SetPolicy: grpc.handleUnaryCall<_troupe_v1_SetPolicyRequest__Output, _troupe_v1_ThrottlePolicy>;
  
}

export interface ThrottleServiceDefinition extends grpc.ServiceDefinition {
  DeletePolicy: MethodDefinition<_troupe_v1_DeletePolicyRequest, _troupe_v1_DeletePolicyResponse, _troupe_v1_DeletePolicyRequest__Output, _troupe_v1_DeletePolicyResponse__Output>
  GetPolicy: MethodDefinition<_troupe_v1_GetPolicyRequest, _troupe_v1_ThrottlePolicy, _troupe_v1_GetPolicyRequest__Output, _troupe_v1_ThrottlePolicy__Output>
  GetStatus: MethodDefinition<_troupe_v1_GetStatusRequest, _troupe_v1_GetStatusResponse, _troupe_v1_GetStatusRequest__Output, _troupe_v1_GetStatusResponse__Output>
  ListPolicies: MethodDefinition<_troupe_v1_ListPoliciesRequest, _troupe_v1_ListPoliciesResponse, _troupe_v1_ListPoliciesRequest__Output, _troupe_v1_ListPoliciesResponse__Output>
  SetPolicy: MethodDefinition<_troupe_v1_SetPolicyRequest, _troupe_v1_ThrottlePolicy, _troupe_v1_SetPolicyRequest__Output, _troupe_v1_ThrottlePolicy__Output>
}
