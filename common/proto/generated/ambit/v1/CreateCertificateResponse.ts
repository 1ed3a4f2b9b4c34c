// Original file: proto/ambit/v1/certificate.proto


export interface CreateCertificateResponse {
  /**
   * PEM: leaf first, then intermediates (none today), ending at the root.
   */
  'certChain'?: (string)[];
  /**
   * PEM roots the client should trust for this trust domain.
   */
  'trustBundle'?: (string)[];
}

export interface CreateCertificateResponse__Output {
  /**
   * PEM: leaf first, then intermediates (none today), ending at the root.
   */
  'certChain': (string)[];
  /**
   * PEM roots the client should trust for this trust domain.
   */
  'trustBundle': (string)[];
}
