// Original file: protos/troupe/v1/throttle_service.proto


export interface DeletePolicyRequest {
  'name'?: (string);
}

export interface DeletePolicyRequest__Output {
  'name': (string);
}
