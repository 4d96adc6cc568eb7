// Original file: protos/troupe/v1/host_channel.proto


export interface HostLoad {
  'mailboxDepth'?: (number);
  'turnsInFlight'?: (number);
  'cpu'?: (number | string);
  'draining'?: (boolean);
  'jobCapacity'?: (number);
}

export interface HostLoad__Output {
  'mailboxDepth': (number);
  'turnsInFlight': (number);
  'cpu': (number);
  'draining': (boolean);
  'jobCapacity': (number);
}
