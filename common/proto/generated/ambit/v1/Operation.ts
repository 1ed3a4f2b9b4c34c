// Original file: proto/ambit/v1/authorization.proto

import type { StringMatch as _ambit_v1_StringMatch, StringMatch__Output as _ambit_v1_StringMatch__Output } from '../../ambit/v1/StringMatch';

/**
 * One `to.operation`.
 */
export interface Operation {
  'ports'?: (number)[];
  'notPorts'?: (number)[];
  /**
   * L7 fields.
   */
  'hosts'?: (_ambit_v1_StringMatch)[];
  'notHosts'?: (_ambit_v1_StringMatch)[];
  'methods'?: (_ambit_v1_StringMatch)[];
  'notMethods'?: (_ambit_v1_StringMatch)[];
  'paths'?: (_ambit_v1_StringMatch)[];
  'notPaths'?: (_ambit_v1_StringMatch)[];
}

/**
 * One `to.operation`.
 */
export interface Operation__Output {
  'ports': (number)[];
  'notPorts': (number)[];
  /**
   * L7 fields.
   */
  'hosts': (_ambit_v1_StringMatch__Output)[];
  'notHosts': (_ambit_v1_StringMatch__Output)[];
  'methods': (_ambit_v1_StringMatch__Output)[];
  'notMethods': (_ambit_v1_StringMatch__Output)[];
  'paths': (_ambit_v1_StringMatch__Output)[];
  'notPaths': (_ambit_v1_StringMatch__Output)[];
}
