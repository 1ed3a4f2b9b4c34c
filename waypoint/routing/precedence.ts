/**
 * Which matching rule wins when several routes attach to one Service port. The route table sorts
 * its candidates once with these comparators, so `select` takes the first candidate that matches.
 *
 * HTTPRoute (Gateway API v1 HTTPRouteRule, "Matching precedence"), continuing on ties:
 *   1. an Exact path match; 2. a PathPrefix match with the most characters; 3. a method match;
 *   4. the most header matches; 5. the most query param matches.
 * The spec leaves RegularExpression paths implementation-specific. Ambit ranks them after every
 * prefix, longer pattern first, as Istio does, so manifests behave the same in both meshes. The
 * consequence: a PathPrefix "/" rule (also a rule without matches) shadows regex rules on the same
 * Service; write such catch-alls as a regex too, or drop them.
 *
 * GRPCRoute (Gateway API v1 GRPCRouteRule): most characters in the matching service, then in the
 * method, then most header matches (hostnames play no part in a mesh, see route-table.ts). Whether
 * an Exact method match beats a RegularExpression one is open upstream (gateway-api#2216); Ambit
 * ranks Exact first, then RegularExpression, then a match without a method.
 *
 * Ties across routes: the oldest route (creationTimestamp), then "<namespace>/<name>"
 * alphabetically; within a route, the first rule in list order (and the first match of a rule).
 */
import type { CompiledMatch } from './route-match';

export interface Ranked {
  readonly compiled: CompiledMatch;
  readonly createdMs: number;
  /** "<namespace>/<name>" of the route. */
  readonly name: string;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

/** Negative when `a` comes first. Byte-wise so the order does not depend on the locale. */
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function byRouteAge(a: Ranked, b: Ranked): number {
  return a.createdMs - b.createdMs || byString(a.name, b.name) || a.ruleIndex - b.ruleIndex || a.matchIndex - b.matchIndex;
}

export function compareHttp(a: Ranked, b: Ranked): number {
  const x = a.compiled;
  const y = b.compiled;
  return (
    y.pathRank - x.pathRank ||
    // Exact paths of different lengths never both match one request, so length only orders
    // prefixes and regexes in practice.
    y.pathLength - x.pathLength ||
    Number(y.hasMethod) - Number(x.hasMethod) ||
    y.headerCount - x.headerCount ||
    y.queryCount - x.queryCount ||
    byRouteAge(a, b)
  );
}

export function compareGrpc(a: Ranked, b: Ranked): number {
  const x = a.compiled;
  const y = b.compiled;
  return (
    y.grpcRank - x.grpcRank ||
    y.grpcServiceLength - x.grpcServiceLength ||
    y.grpcMethodLength - x.grpcMethodLength ||
    y.headerCount - x.headerCount ||
    byRouteAge(a, b)
  );
}
