// Original file: proto/ambit/v1/authorization.proto


export interface Address {
  /**
   * CIDR (a bare IP is /32 or /128).
   */
  'cidr'?: (string);
}

export interface Address__Output {
  /**
   * CIDR (a bare IP is /32 or /128).
   */
  'cidr': (string);
}
