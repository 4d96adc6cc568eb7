// Original file: protos/troupe/v1/throttle_service.proto


export interface DeletePolicyResponse {
}

export interface DeletePolicyResponse__Output {
}
