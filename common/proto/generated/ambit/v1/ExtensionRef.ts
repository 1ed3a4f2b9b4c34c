// Original file: proto/ambit/v1/route.proto


export interface ExtensionRef {
  'group'?: (string);
  'kind'?: (string);
  'name'?: (string);
}

export interface ExtensionRef__Output {
  'group': (string);
  'kind': (string);
  'name': (string);
}
