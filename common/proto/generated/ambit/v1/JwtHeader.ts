// Original file: proto/ambit/v1/authentication.proto


export interface JwtHeader {
  'name'?: (string);
  'prefix'?: (string);
}

export interface JwtHeader__Output {
  'name': (string);
  'prefix': (string);
}
