// Original file: proto/ambit/v1/authorization.proto


export interface PolicyTargetRef {
  'group'?: (string);
  'kind'?: (string);
  'name'?: (string);
  'namespace'?: (string);
}

export interface PolicyTargetRef__Output {
  'group': (string);
  'kind': (string);
  'name': (string);
  'namespace': (string);
}
