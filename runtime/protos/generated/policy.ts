import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Limit as _troupe_v1_Limit, Limit__Output as _troupe_v1_Limit__Output } from './troupe/v1/Limit.js';
import type { Match as _troupe_v1_Match, Match__Output as _troupe_v1_Match__Output } from './troupe/v1/Match.js';
import type { ThrottlePolicy as _troupe_v1_ThrottlePolicy, ThrottlePolicy__Output as _troupe_v1_ThrottlePolicy__Output } from './troupe/v1/ThrottlePolicy.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  troupe: {
    v1: {
      KeyBy: EnumTypeDefinition
      Limit: MessageTypeDefinition<_troupe_v1_Limit, _troupe_v1_Limit__Output>
      Match: MessageTypeDefinition<_troupe_v1_Match, _troupe_v1_Match__Output>
      ThrottlePolicy: MessageTypeDefinition<_troupe_v1_ThrottlePolicy, _troupe_v1_ThrottlePolicy__Output>
    }
  }
}

