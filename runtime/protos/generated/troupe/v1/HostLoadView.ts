// Original file: protos/troupe/v1/scaling_service.proto


export interface HostLoadView {
  'hostId'?: (string);
  'mailboxDepth'?: (number);
  'turnsInFlight'?: (number);
  'cpu'?: (number | string);
  'draining'?: (boolean);
}

export interface HostLoadView__Output {
  'hostId': (string);
  'mailboxDepth': (number);
  'turnsInFlight': (number);
  'cpu': (number);
  'draining': (boolean);
}
