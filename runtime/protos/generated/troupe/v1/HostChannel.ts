// Original file: protos/troupe/v1/host_channel.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ControlMessage as _troupe_v1_ControlMessage, ControlMessage__Output as _troupe_v1_ControlMessage__Output } from '../../troupe/v1/ControlMessage.js';
import type { HostMessage as _troupe_v1_HostMessage, HostMessage__Output as _troupe_v1_HostMessage__Output } from '../../troupe/v1/HostMessage.js';

export interface HostChannelClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_troupe_v1_HostMessage, _troupe_v1_ControlMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_troupe_v1_HostMessage, _troupe_v1_ControlMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_troupe_v1_HostMessage, _troupe_v1_ControlMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_troupe_v1_HostMessage, _troupe_v1_ControlMessage__Output>;
  
}

export interface HostChannelHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_troupe_v1_HostMessage__Output, _troupe_v1_ControlMessage>;
  
}

export interface HostChannelDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_troupe_v1_HostMessage, _troupe_v1_ControlMessage, _troupe_v1_HostMessage__Output, _troupe_v1_ControlMessage__Output>
}
