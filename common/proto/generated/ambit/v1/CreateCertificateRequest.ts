// Original file: proto/ambit/v1/certificate.proto


export interface CreateCertificateRequest {
  /**
   * PEM PKCS#10; its key must be ECDSA P-256 and its URI SAN (if any) the requested identity.
   */
  'csr'?: (string);
  /**
   * spiffe://<trust-domain>/ns/<ns>/sa/<sa>.
   */
  'identity'?: (string);
  /**
   * Requested lifetime; 0 = the CA's default (24 h); capped by the CA's maximum.
   */
  'validitySeconds'?: (number);
}

export interface CreateCertificateRequest__Output {
  /**
   * PEM PKCS#10; its key must be ECDSA P-256 and its URI SAN (if any) the requested identity.
   */
  'csr': (string);
  /**
   * spiffe://<trust-domain>/ns/<ns>/sa/<sa>.
   */
  'identity': (string);
  /**
   * Requested lifetime; 0 = the CA's default (24 h); capped by the CA's maximum.
   */
  'validitySeconds': (number);
}
