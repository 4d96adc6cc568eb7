// Original file: protos/troupe/v1/scaling_service.proto


export interface ListDecisionsRequest {
}

export interface ListDecisionsRequest__Output {
}
