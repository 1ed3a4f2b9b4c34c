// Original file: proto/ambit/v1/route.proto


export interface PathModifier {
  /**
   * "ReplaceFullPath" or "ReplacePrefixMatch".
   */
  'type'?: (string);
  'replaceFullPath'?: (string);
  'replacePrefixMatch'?: (string);
}

export interface PathModifier__Output {
  /**
   * "ReplaceFullPath" or "ReplacePrefixMatch".
   */
  'type': (string);
  'replaceFullPath': (string);
  'replacePrefixMatch': (string);
}
