import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConnectedHost as _troupe_v1_ConnectedHost, ConnectedHost__Output as _troupe_v1_ConnectedHost__Output } from './troupe/v1/ConnectedHost.js';
import type { DeletePolicyRequest as _troupe_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _troupe_v1_DeletePolicyRequest__Output } from './troupe/v1/DeletePolicyRequest.js';
import type { DeletePolicyResponse as _troupe_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _troupe_v1_DeletePolicyResponse__Output } from './troupe/v1/DeletePolicyResponse.js';
import type { GetPolicyRequest as _troupe_v1_GetPolicyRequest, GetPolicyRequest__Output as _troupe_v1_GetPolicyRequest__Output } from './troupe/v1/GetPolicyRequest.js';
import type { GetStatusRequest as _troupe_v1_GetStatusRequest, GetStatusRequest__Output as _troupe_v1_GetStatusRequest__Output } from './troupe/v1/GetStatusRequest.js';
import type { GetStatusResponse as _troupe_v1_GetStatusResponse, GetStatusResponse__Output as _troupe_v1_GetStatusResponse__Output } from './troupe/v1/GetStatusResponse.js';
import type { HostShare as _troupe_v1_HostShare, HostShare__Output as _troupe_v1_HostShare__Output } from './troupe/v1/HostShare.js';
import type { KeyStatus as _troupe_v1_KeyStatus, KeyStatus__Output as _troupe_v1_KeyStatus__Output } from './troupe/v1/KeyStatus.js';
import type { Limit as _troupe_v1_Limit, Limit__Output as _troupe_v1_Limit__Output } from './troupe/v1/Limit.js';
import type { ListPoliciesRequest as _troupe_v1_ListPoliciesRequest, ListPoliciesRequest__Output as _troupe_v1_ListPoliciesRequest__Output } from './troupe/v1/ListPoliciesRequest.js';
import type { ListPoliciesResponse as _troupe_v1_ListPoliciesResponse, ListPoliciesResponse__Output as _troupe_v1_ListPoliciesResponse__Output } from './troupe/v1/ListPoliciesResponse.js';
import type { Match as _troupe_v1_Match, Match__Output as _troupe_v1_Match__Output } from './troupe/v1/Match.js';
import type { PolicyStatus as _troupe_v1_PolicyStatus, PolicyStatus__Output as _troupe_v1_PolicyStatus__Output } from './troupe/v1/PolicyStatus.js';
import type { SetPolicyRequest as _troupe_v1_SetPolicyRequest, SetPolicyRequest__Output as _troupe_v1_SetPolicyRequest__Output } from './troupe/v1/SetPolicyRequest.js';
import type { ThrottlePolicy as _troupe_v1_ThrottlePolicy, ThrottlePolicy__Output as _troupe_v1_ThrottlePolicy__Output } from './troupe/v1/ThrottlePolicy.js';
import type { ThrottleServiceClient as _troupe_v1_ThrottleServiceClient, ThrottleServiceDefinition as _troupe_v1_ThrottleServiceDefinition } from './troupe/v1/ThrottleService.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  troupe: {
    v1: {
      ConnectedHost: MessageTypeDefinition<_troupe_v1_ConnectedHost, _troupe_v1_ConnectedHost__Output>
      DeletePolicyRequest: MessageTypeDefinition<_troupe_v1_DeletePolicyRequest, _troupe_v1_DeletePolicyRequest__Output>
      DeletePolicyResponse: MessageTypeDefinition<_troupe_v1_DeletePolicyResponse, _troupe_v1_DeletePolicyResponse__Output>
      GetPolicyRequest: MessageTypeDefinition<_troupe_v1_GetPolicyRequest, _troupe_v1_GetPolicyRequest__Output>
      GetStatusRequest: MessageTypeDefinition<_troupe_v1_GetStatusRequest, _troupe_v1_GetStatusRequest__Output>
      GetStatusResponse: MessageTypeDefinition<_troupe_v1_GetStatusResponse, _troupe_v1_GetStatusResponse__Output>
      HostShare: MessageTypeDefinition<_troupe_v1_HostShare, _troupe_v1_HostShare__Output>
      KeyBy: EnumTypeDefinition
      KeyStatus: MessageTypeDefinition<_troupe_v1_KeyStatus, _troupe_v1_KeyStatus__Output>
      Limit: MessageTypeDefinition<_troupe_v1_Limit, _troupe_v1_Limit__Output>
      ListPoliciesRequest: MessageTypeDefinition<_troupe_v1_ListPoliciesRequest, _troupe_v1_ListPoliciesRequest__Output>
      ListPoliciesResponse: MessageTypeDefinition<_troupe_v1_ListPoliciesResponse, _troupe_v1_ListPoliciesResponse__Output>
      Match: MessageTypeDefinition<_troupe_v1_Match, _troupe_v1_Match__Output>
      PolicyStatus: MessageTypeDefinition<_troupe_v1_PolicyStatus, _troupe_v1_PolicyStatus__Output>
      SetPolicyRequest: MessageTypeDefinition<_troupe_v1_SetPolicyRequest, _troupe_v1_SetPolicyRequest__Output>
      ThrottlePolicy: MessageTypeDefinition<_troupe_v1_ThrottlePolicy, _troupe_v1_ThrottlePolicy__Output>
      ThrottleService: SubtypeConstructor<typeof grpc.Client, _troupe_v1_ThrottleServiceClient> & { service: _troupe_v1_ThrottleServiceDefinition }
    }
  }
}

