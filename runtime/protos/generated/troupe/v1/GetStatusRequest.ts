// Original file: protos/troupe/v1/throttle_service.proto


export interface GetStatusRequest {
  'policy'?: (string);
}

export interface GetStatusRequest__Output {
  'policy': (string);
}
