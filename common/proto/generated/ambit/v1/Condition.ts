// Original file: proto/ambit/v1/authorization.proto

import type { StringMatch as _ambit_v1_StringMatch, StringMatch__Output as _ambit_v1_StringMatch__Output } from '../../ambit/v1/StringMatch';

/**
 * One `when` entry: key (e.g. source.ip, request.headers[x-user]) with values / not_values.
 */
export interface Condition {
  'key'?: (string);
  'values'?: (_ambit_v1_StringMatch)[];
  'notValues'?: (_ambit_v1_StringMatch)[];
}

/**
 * One `when` entry: key (e.g. source.ip, request.headers[x-user]) with values / not_values.
 */
export interface Condition__Output {
  'key': (string);
  'values': (_ambit_v1_StringMatch__Output)[];
  'notValues': (_ambit_v1_StringMatch__Output)[];
}
