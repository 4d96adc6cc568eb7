// Original file: protos/troupe/v1/host_channel.proto


export interface KeyUsage {
  'policy'?: (string);
  'key'?: (string);
  'allowed'?: (number);
  'refused'?: (number);
  'inFlight'?: (number);
}

export interface KeyUsage__Output {
  'policy': (string);
  'key': (string);
  'allowed': (number);
  'refused': (number);
  'inFlight': (number);
}
