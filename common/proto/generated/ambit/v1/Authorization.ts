// Original file: proto/ambit/v1/authorization.proto

import type { PolicyScope as _ambit_v1_PolicyScope, PolicyScope__Output as _ambit_v1_PolicyScope__Output } from '../../ambit/v1/PolicyScope';
import type { AuthorizationAction as _ambit_v1_AuthorizationAction, AuthorizationAction__Output as _ambit_v1_AuthorizationAction__Output } from '../../ambit/v1/AuthorizationAction';
import type { PolicyTargetRef as _ambit_v1_PolicyTargetRef, PolicyTargetRef__Output as _ambit_v1_PolicyTargetRef__Output } from '../../ambit/v1/PolicyTargetRef';
import type { Rule as _ambit_v1_Rule, Rule__Output as _ambit_v1_Rule__Output } from '../../ambit/v1/Rule';

export interface Authorization {
  'name'?: (string);
  'namespace'?: (string);
  'scope'?: (_ambit_v1_PolicyScope);
  'action'?: (_ambit_v1_AuthorizationAction);
  /**
   * matchLabels of spec.selector (scope WORKLOAD_SELECTOR).
   */
  'selector'?: ({[key: string]: string});
  'targetRefs'?: (_ambit_v1_PolicyTargetRef)[];
  /**
   * Rules with only L4 fields, enforceable by the agent. When the policy had L7 fields and is
   * enforced by an agent, these are the fail-closed form (see `warnings`).
   */
  'l4Rules'?: (_ambit_v1_Rule)[];
  /**
   * The full rules (L4 and L7) as written, for a waypoint.
   */
  'l7Rules'?: (_ambit_v1_Rule)[];
  /**
   * True when the policy uses L7 fields.
   */
  'hasL7'?: (boolean);
  /**
   * istio.io/dry-run annotation.
   */
  'dryRun'?: (boolean);
  /**
   * Why the enforced form differs from what was written (e.g. L7 fields with no waypoint).
   */
  'warnings'?: (string)[];
  /**
   * spec.rules was empty: an ALLOW matches nothing, a DENY matches nothing.
   */
  'emptyRules'?: (boolean);
}

export interface Authorization__Output {
  'name': (string);
  'namespace': (string);
  'scope': (_ambit_v1_PolicyScope__Output);
  'action': (_ambit_v1_AuthorizationAction__Output);
  /**
   * matchLabels of spec.selector (scope WORKLOAD_SELECTOR).
   */
  'selector': ({[key: string]: string});
  'targetRefs': (_ambit_v1_PolicyTargetRef__Output)[];
  /**
   * Rules with only L4 fields, enforceable by the agent. When the policy had L7 fields and is
   * enforced by an agent, these are the fail-closed form (see `warnings`).
   */
  'l4Rules': (_ambit_v1_Rule__Output)[];
  /**
   * The full rules (L4 and L7) as written, for a waypoint.
   */
  'l7Rules': (_ambit_v1_Rule__Output)[];
  /**
   * True when the policy uses L7 fields.
   */
  'hasL7': (boolean);
  /**
   * istio.io/dry-run annotation.
   */
  'dryRun': (boolean);
  /**
   * Why the enforced form differs from what was written (e.g. L7 fields with no waypoint).
   */
  'warnings': (string)[];
  /**
   * spec.rules was empty: an ALLOW matches nothing, a DENY matches nothing.
   */
  'emptyRules': (boolean);
}
