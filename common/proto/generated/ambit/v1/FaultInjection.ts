// Original file: proto/ambit/v1/route.proto


/**
 * Ambit's fault injection (an ExtensionRef to a FaultInjection resource), with Istio's fields.
 */
export interface FaultInjection {
  'delayPercent'?: (number | string);
  'fixedDelayMs'?: (number);
  'abortPercent'?: (number | string);
  'abortHttpStatus'?: (number);
  'abortGrpcStatus'?: (number);
}

/**
 * Ambit's fault injection (an ExtensionRef to a FaultInjection resource), with Istio's fields.
 */
export interface FaultInjection__Output {
  'delayPercent': (number);
  'fixedDelayMs': (number);
  'abortPercent': (number);
  'abortHttpStatus': (number);
  'abortGrpcStatus': (number);
}
