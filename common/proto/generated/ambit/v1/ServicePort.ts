// Original file: proto/ambit/v1/workload.proto


export interface ServicePort {
  'servicePort'?: (number);
  /**
   * Numeric target port; 0 when the Service names a container port (see Endpoint.ports).
   */
  'targetPort'?: (number);
  'name'?: (string);
  /**
   * appProtocol, or the protocol inferred from the port name (http, http2, grpc, tcp, ...).
   */
  'appProtocol'?: (string);
}

export interface ServicePort__Output {
  'servicePort': (number);
  /**
   * Numeric target port; 0 when the Service names a container port (see Endpoint.ports).
   */
  'targetPort': (number);
  'name': (string);
  /**
   * appProtocol, or the protocol inferred from the port name (http, http2, grpc, tcp, ...).
   */
  'appProtocol': (string);
}
