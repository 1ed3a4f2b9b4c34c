// Original file: proto/ambit/v1/route.proto


export interface HeaderValue {
  'name'?: (string);
  'value'?: (string);
}

export interface HeaderValue__Output {
  'name': (string);
  'value': (string);
}
