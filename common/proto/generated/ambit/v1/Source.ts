// Original file: proto/ambit/v1/authorization.proto

import type { StringMatch as _ambit_v1_StringMatch, StringMatch__Output as _ambit_v1_StringMatch__Output } from '../../ambit/v1/StringMatch';
import type { Address as _ambit_v1_Address, Address__Output as _ambit_v1_Address__Output } from '../../ambit/v1/Address';

/**
 * One `from.source`. Fields are ANDed; values within a field are ORed; not_* exclude.
 */
export interface Source {
  'principals'?: (_ambit_v1_StringMatch)[];
  'notPrincipals'?: (_ambit_v1_StringMatch)[];
  'namespaces'?: (_ambit_v1_StringMatch)[];
  'notNamespaces'?: (_ambit_v1_StringMatch)[];
  'ipBlocks'?: (_ambit_v1_Address)[];
  'notIpBlocks'?: (_ambit_v1_Address)[];
  'remoteIpBlocks'?: (_ambit_v1_Address)[];
  'notRemoteIpBlocks'?: (_ambit_v1_Address)[];
  /**
   * L7: JWT request principals (iss/sub).
   */
  'requestPrincipals'?: (_ambit_v1_StringMatch)[];
  'notRequestPrincipals'?: (_ambit_v1_StringMatch)[];
}

/**
 * One `from.source`. Fields are ANDed; values within a field are ORed; not_* exclude.
 */
export interface Source__Output {
  'principals': (_ambit_v1_StringMatch__Output)[];
  'notPrincipals': (_ambit_v1_StringMatch__Output)[];
  'namespaces': (_ambit_v1_StringMatch__Output)[];
  'notNamespaces': (_ambit_v1_StringMatch__Output)[];
  'ipBlocks': (_ambit_v1_Address__Output)[];
  'notIpBlocks': (_ambit_v1_Address__Output)[];
  'remoteIpBlocks': (_ambit_v1_Address__Output)[];
  'notRemoteIpBlocks': (_ambit_v1_Address__Output)[];
  /**
   * L7: JWT request principals (iss/sub).
   */
  'requestPrincipals': (_ambit_v1_StringMatch__Output)[];
  'notRequestPrincipals': (_ambit_v1_StringMatch__Output)[];
}
