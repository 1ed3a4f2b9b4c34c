// Original file: proto/ambit/v1/authorization.proto


/**
 * A string matcher with Istio's wildcard rules: exact, "prefix*", "*suffix", or "*".
 */
export interface StringMatch {
  'exact'?: (string);
  'prefix'?: (string);
  'suffix'?: (string);
  'presence'?: (boolean);
  'match'?: "exact"|"prefix"|"suffix"|"presence";
}

/**
 * A string matcher with Istio's wildcard rules: exact, "prefix*", "*suffix", or "*".
 */
export interface StringMatch__Output {
  'exact'?: (string);
  'prefix'?: (string);
  'suffix'?: (string);
  'presence'?: (boolean);
  'match'?: "exact"|"prefix"|"suffix"|"presence";
}
