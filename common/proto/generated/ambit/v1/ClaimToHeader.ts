// Original file: proto/ambit/v1/authentication.proto


export interface ClaimToHeader {
  'header'?: (string);
  'claim'?: (string);
}

export interface ClaimToHeader__Output {
  'header': (string);
  'claim': (string);
}
