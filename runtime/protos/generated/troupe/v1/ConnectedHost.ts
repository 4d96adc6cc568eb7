// Original file: protos/troupe/v1/throttle_service.proto


export interface ConnectedHost {
  'hostId'?: (string);
  'actorTypes'?: (string)[];
  'lastReportAgeMs'?: (number);
}

export interface ConnectedHost__Output {
  'hostId': (string);
  'actorTypes': (string)[];
  'lastReportAgeMs': (number);
}
