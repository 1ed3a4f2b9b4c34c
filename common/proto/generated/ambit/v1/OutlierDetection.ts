// Original file: proto/ambit/v1/destination.proto


export interface OutlierDetection {
  'consecutive_5xxErrors'?: (number);
  'consecutiveGatewayErrors'?: (number);
  'intervalMs'?: (number);
  'baseEjectionTimeMs'?: (number);
  'maxEjectionPercent'?: (number);
  'minHealthPercent'?: (number);
}

export interface OutlierDetection__Output {
  'consecutive_5xxErrors': (number);
  'consecutiveGatewayErrors': (number);
  'intervalMs': (number);
  'baseEjectionTimeMs': (number);
  'maxEjectionPercent': (number);
  'minHealthPercent': (number);
}
