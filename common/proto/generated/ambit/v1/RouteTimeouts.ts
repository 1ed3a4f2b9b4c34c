// Original file: proto/ambit/v1/route.proto


export interface RouteTimeouts {
  /**
   * 0 = none.
   */
  'requestMs'?: (number);
  'backendRequestMs'?: (number);
}

export interface RouteTimeouts__Output {
  /**
   * 0 = none.
   */
  'requestMs': (number);
  'backendRequestMs': (number);
}
