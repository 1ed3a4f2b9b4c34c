/**
 * One HTTPRoute / GRPCRoute match compiled into a predicate over the request, plus the numbers
 * precedence sorts on. Compiled once per route table; `test` allocates nothing beyond what the
 * RequestView computes lazily (the query map and the gRPC service/method, once per request).
 *
 * Semantics follow the Gateway API v1 types (HTTPRouteMatch, GRPCRouteMatch):
 * - all conditions of one match AND together;
 * - PathPrefix matches element by element and ignores a trailing "/" in the prefix
 *   ("/abc" matches "/abc", "/abc/" and "/abc/def", not "/abcd");
 * - header names are case-insensitive, query param names case-sensitive; when a match lists the
 *   same name twice only the first entry counts;
 * - GRPCRoute method matches read the ":path" "/<service>/<method>"; an empty service or method
 *   matches any.
 */
import type { MatchType__Output } from '../../common/proto/generated/ambit/v1/MatchType';
import type { HeaderMatch__Output } from '../../common/proto/generated/ambit/v1/HeaderMatch';
import type { PathMatch__Output } from '../../common/proto/generated/ambit/v1/PathMatch';
import type { RouteMatch__Output } from '../../common/proto/generated/ambit/v1/RouteMatch';
import type { RequestFacts } from '../pipeline/request-facts';
import { regexTest, type ValueTest } from './regex';
import { RequestView } from './request-view';


/** Path match kinds in precedence order (higher wins); see precedence.ts. */
export const PathRank = { REGULAR_EXPRESSION: 1, PATH_PREFIX: 2, EXACT: 3 } as const;

/** GRPCRoute method match kinds in precedence order (higher wins). */
export const GrpcRank = { ANY: 0, REGULAR_EXPRESSION: 1, EXACT: 2 } as const;

interface NamedTest {
  readonly name: string;
  readonly test: ValueTest;
}

export interface CompiledMatch {
  test(view: RequestView): boolean;
  /** PathRank of the path match (PathPrefix "/" when the match has none). */
  readonly pathRank: number;
  /** Characters of the path match (a prefix without its trailing "/"). */
  readonly pathLength: number;
  readonly hasMethod: boolean;
  readonly headerCount: number;
  readonly queryCount: number;
  readonly grpcRank: number;
  readonly grpcServiceLength: number;
  readonly grpcMethodLength: number;
}

function valueTest(type: MatchType__Output, value: string): ValueTest {
  return type === 'REGULAR_EXPRESSION' ? regexTest(value) : (v) => v === value;
}

/** A PathPrefix without its trailing slashes; "" for "/" (matches every path). */
export function normalizedPrefix(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 47 /* / */) end--;
  return value.slice(0, end);
}

/** True when `path` lies under `prefix` (already normalized), element by element. */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47);
}

function pathTest(p: PathMatch__Output): { test: ValueTest | null; rank: number; length: number } {
  switch (p.type) {
    case 'EXACT':
      return { test: (v) => v === p.value, rank: PathRank.EXACT, length: p.value.length };
    case 'REGULAR_EXPRESSION':
      return { test: regexTest(p.value), rank: PathRank.REGULAR_EXPRESSION, length: p.value.length };
    default: {
      const prefix = normalizedPrefix(p.value);
      return { test: prefix === '' ? null : (v) => underPrefix(v, prefix), rank: PathRank.PATH_PREFIX, length: prefix.length };
    }
  }
}

/** First entry per name wins (HTTPHeaderMatch / HTTPQueryParamMatch). */
function namedTests(list: readonly HeaderMatch__Output[], lowerCase: boolean): NamedTest[] {
  const seen = new Set<string>();
  const out: NamedTest[] = [];
  for (const h of list) {
    const name = lowerCase ? h.name.toLowerCase() : h.name;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, test: valueTest(h.type, h.value) });
  }
  return out;
}

/**
 * Header value as matched. The Host header travels as ":authority" in HTTP/2, so "host" reads
 * RequestFacts.host (GEP-1294 points mesh users at a Host header match instead of `hostnames`).
 * A repeated header matches when its values joined by "," (RFC 9110 §5.3) or any single value do.
 */
function headerMatches(req: RequestFacts, h: NamedTest): boolean {
  if (h.name === 'host' || h.name === ':authority') return h.test(req.host);
  const v = req.headers[h.name];
  if (v === undefined) return false;
  if (!Array.isArray(v)) return h.test(v);
  if (h.test(v.join(','))) return true;
  for (const one of v) if (h.test(one)) return true;
  return false;
}

class Compiled implements CompiledMatch {
  readonly pathRank: number;
  readonly pathLength: number;
  readonly hasMethod: boolean;
  readonly headerCount: number;
  readonly queryCount: number;
  readonly grpcRank: number;
  readonly grpcServiceLength: number;
  readonly grpcMethodLength: number;
  private readonly path: ValueTest | null;
  private readonly method: string;
  private readonly headers: NamedTest[];
  private readonly query: NamedTest[];
  private readonly grpcService: ValueTest | null;
  private readonly grpcMethod: ValueTest | null;

  constructor(m: RouteMatch__Output | null, private readonly grpcOnly: boolean) {
    const p = m?.path ? pathTest(m.path) : { test: null, rank: PathRank.PATH_PREFIX, length: 0 };
    this.path = p.test;
    this.pathRank = p.rank;
    this.pathLength = p.length;
    this.method = (m?.method ?? '').toUpperCase();
    this.hasMethod = this.method !== '';
    this.headers = namedTests(m?.headers ?? [], true);
    this.query = namedTests(m?.queryParams ?? [], false);
    this.headerCount = this.headers.length;
    this.queryCount = this.query.length;
    const g = m?.grpcMethod ?? null;
    const svc = g?.service ?? '';
    const meth = g?.method ?? '';
    this.grpcService = svc === '' || g === null ? null : valueTest(g.type, svc);
    this.grpcMethod = meth === '' || g === null ? null : valueTest(g.type, meth);
    this.grpcRank = g === null || (svc === '' && meth === '') ? GrpcRank.ANY : g.type === 'REGULAR_EXPRESSION' ? GrpcRank.REGULAR_EXPRESSION : GrpcRank.EXACT;
    this.grpcServiceLength = svc.length;
    this.grpcMethodLength = meth.length;
  }

  test(view: RequestView): boolean {
    const req = view.req;
    // GRPCRoute rules only see gRPC requests; HTTPRoute rules see everything.
    if (this.grpcOnly && !req.grpc) return false;
    if (this.method !== '' && req.method !== this.method) return false;
    if (this.path !== null && !this.path(view.path)) return false;
    if (this.grpcService !== null || this.grpcMethod !== null) {
      const parts = view.grpcParts();
      if (parts === null) return false;
      if (this.grpcService !== null && !this.grpcService(parts.service)) return false;
      if (this.grpcMethod !== null && !this.grpcMethod(parts.method)) return false;
    }
    for (const h of this.headers) if (!headerMatches(req, h)) return false;
    for (const q of this.query) {
      const v = view.queryParam(q.name);
      if (v === undefined || !q.test(v)) return false;
    }
    return true;
  }
}

/** Compile one match; `null` (a rule without matches) matches every request of its kind. */
export function compileMatch(m: RouteMatch__Output | null, grpcOnly: boolean): CompiledMatch {
  return new Compiled(m, grpcOnly);
}

/** Convenience for one-off checks (tests, config dumps): does `m` match `req`? */
export function matchesRequest(m: RouteMatch__Output | null, grpcOnly: boolean, req: RequestFacts): boolean {
  return compileMatch(m, grpcOnly).test(new RequestView(req));
}
