// Original file: protos/troupe/v1/scaling_service.proto


export interface GetDecisionRequest {
  'group'?: (string);
}

export interface GetDecisionRequest__Output {
  'group': (string);
}
