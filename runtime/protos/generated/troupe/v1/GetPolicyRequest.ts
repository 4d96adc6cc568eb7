// Original file: protos/troupe/v1/throttle_service.proto


export interface GetPolicyRequest {
  'name'?: (string);
}

export interface GetPolicyRequest__Output {
  'name': (string);
}
