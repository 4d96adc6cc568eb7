// Original file: protos/troupe/v1/policy.proto

import type { Match as _troupe_v1_Match, Match__Output as _troupe_v1_Match__Output } from '../../troupe/v1/Match.js';
import type { Limit as _troupe_v1_Limit, Limit__Output as _troupe_v1_Limit__Output } from '../../troupe/v1/Limit.js';
import type { KeyBy as _troupe_v1_KeyBy, KeyBy__Output as _troupe_v1_KeyBy__Output } from '../../troupe/v1/KeyBy.js';
import type { Long } from '@grpc/proto-loader';

export interface ThrottlePolicy {
  'name'?: (string);
  'match'?: (_troupe_v1_Match | null);
  'limit'?: (_troupe_v1_Limit | null);
  'keyBy'?: (_troupe_v1_KeyBy);
  'description'?: (string);
  'revision'?: (number | string | Long);
  'keyFunction'?: (string);
}

export interface ThrottlePolicy__Output {
  'name': (string);
  'match': (_troupe_v1_Match__Output | null);
  'limit': (_troupe_v1_Limit__Output | null);
  'keyBy': (_troupe_v1_KeyBy__Output);
  'description': (string);
  'revision': (number);
  'keyFunction': (string);
}
