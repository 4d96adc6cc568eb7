// Original file: protos/troupe/v1/throttle_service.proto


export interface ListPoliciesRequest {
}

export interface ListPoliciesRequest__Output {
}
