import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ControlMessage as _troupe_v1_ControlMessage, ControlMessage__Output as _troupe_v1_ControlMessage__Output } from './troupe/v1/ControlMessage.js';
import type { HostChannelClient as _troupe_v1_HostChannelClient, HostChannelDefinition as _troupe_v1_HostChannelDefinition } from './troupe/v1/HostChannel.js';
import type { HostLoad as _troupe_v1_HostLoad, HostLoad__Output as _troupe_v1_HostLoad__Output } from './troupe/v1/HostLoad.js';
import type { HostMessage as _troupe_v1_HostMessage, HostMessage__Output as _troupe_v1_HostMessage__Output } from './troupe/v1/HostMessage.js';
import type { KeyShare as _troupe_v1_KeyShare, KeyShare__Output as _troupe_v1_KeyShare__Output } from './troupe/v1/KeyShare.js';
import type { KeyUsage as _troupe_v1_KeyUsage, KeyUsage__Output as _troupe_v1_KeyUsage__Output } from './troupe/v1/KeyUsage.js';
import type { Limit as _troupe_v1_Limit, Limit__Output as _troupe_v1_Limit__Output } from './troupe/v1/Limit.js';
import type { Match as _troupe_v1_Match, Match__Output as _troupe_v1_Match__Output } from './troupe/v1/Match.js';
import type { PolicyShare as _troupe_v1_PolicyShare, PolicyShare__Output as _troupe_v1_PolicyShare__Output } from './troupe/v1/PolicyShare.js';
import type { Register as _troupe_v1_Register, Register__Output as _troupe_v1_Register__Output } from './troupe/v1/Register.js';
import type { Registered as _troupe_v1_Registered, Registered__Output as _troupe_v1_Registered__Output } from './troupe/v1/Registered.js';
import type { Shares as _troupe_v1_Shares, Shares__Output as _troupe_v1_Shares__Output } from './troupe/v1/Shares.js';
import type { ThrottlePolicy as _troupe_v1_ThrottlePolicy, ThrottlePolicy__Output as _troupe_v1_ThrottlePolicy__Output } from './troupe/v1/ThrottlePolicy.js';
import type { UsageReport as _troupe_v1_UsageReport, UsageReport__Output as _troupe_v1_UsageReport__Output } from './troupe/v1/UsageReport.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  troupe: {
    v1: {
      ControlMessage: MessageTypeDefinition<_troupe_v1_ControlMessage, _troupe_v1_ControlMessage__Output>
      HostChannel: SubtypeConstructor<typeof grpc.Client, _troupe_v1_HostChannelClient> & { service: _troupe_v1_HostChannelDefinition }
      HostLoad: MessageTypeDefinition<_troupe_v1_HostLoad, _troupe_v1_HostLoad__Output>
      HostMessage: MessageTypeDefinition<_troupe_v1_HostMessage, _troupe_v1_HostMessage__Output>
      KeyBy: EnumTypeDefinition
      KeyShare: MessageTypeDefinition<_troupe_v1_KeyShare, _troupe_v1_KeyShare__Output>
      KeyUsage: MessageTypeDefinition<_troupe_v1_KeyUsage, _troupe_v1_KeyUsage__Output>
      Limit: MessageTypeDefinition<_troupe_v1_Limit, _troupe_v1_Limit__Output>
      Match: MessageTypeDefinition<_troupe_v1_Match, _troupe_v1_Match__Output>
      PolicyShare: MessageTypeDefinition<_troupe_v1_PolicyShare, _troupe_v1_PolicyShare__Output>
      Register: MessageTypeDefinition<_troupe_v1_Register, _troupe_v1_Register__Output>
      Registered: MessageTypeDefinition<_troupe_v1_Registered, _troupe_v1_Registered__Output>
      Shares: MessageTypeDefinition<_troupe_v1_Shares, _troupe_v1_Shares__Output>
      ThrottlePolicy: MessageTypeDefinition<_troupe_v1_ThrottlePolicy, _troupe_v1_ThrottlePolicy__Output>
      UsageReport: MessageTypeDefinition<_troupe_v1_UsageReport, _troupe_v1_UsageReport__Output>
    }
  }
}

