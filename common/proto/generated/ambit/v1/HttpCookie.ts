// Original file: proto/ambit/v1/destination.proto


export interface HttpCookie {
  'name'?: (string);
  'path'?: (string);
  'ttlMs'?: (number);
}

export interface HttpCookie__Output {
  'name': (string);
  'path': (string);
  'ttlMs': (number);
}
