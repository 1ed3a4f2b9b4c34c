/**
 * Which backendRef of the chosen rule gets this request. Gateway API HTTPBackendRef.weight: each
 * backend receives weight / sum(weights) of the requests; weight 0 receives none; a rule whose
 * backends all weigh 0 (or that has none) answers 500. An invalid backend (not a Service, or not
 * allowed) keeps its share and the requests that land on it get 500, so the split the user wrote
 * holds for the valid backends (HTTPRouteRule.backendRefs).
 */
import type { BackendRef__Output } from '../../common/proto/generated/ambit/v1/BackendRef';
import type { RouteRule__Output } from '../../common/proto/generated/ambit/v1/RouteRule';

/**
 * False for a backend the control plane marked unusable (empty serviceHostname, see
 * route.proto BackendRef): the waypoint answers 500 for requests picked to go there.
 */
export function isUsableBackend(b: BackendRef__Output): boolean {
  return b.serviceHostname !== '';
}

/**
 * A weighted random pick among the backends with weight > 0, or undefined when there is none.
 * `random` returns [0, 1) like Math.random; tests pass a seeded generator.
 */
export function pickBackend(rule: RouteRule__Output, random: () => number = Math.random): BackendRef__Output | undefined {
  const refs = rule.backendRefs;
  let total = 0;
  let last: BackendRef__Output | undefined;
  for (const b of refs) {
    if (b.weight > 0) {
      total += b.weight;
      last = b;
    }
  }
  if (last === undefined) return undefined;
  if (refs.length === 1) return last;
  let point = random() * total;
  for (const b of refs) {
    if (b.weight <= 0) continue;
    if (point < b.weight) return b;
    point -= b.weight;
  }
  // Only reachable through floating-point rounding at the top of the range.
  return last;
}
