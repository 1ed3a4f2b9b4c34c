// Original file: proto/ambit/v1/config.proto


export interface Ack {
  'version'?: (string);
}

export interface Ack__Output {
  'version': (string);
}
