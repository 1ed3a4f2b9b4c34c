/**
 * The waypoint's `route` stage: which rule of which HTTPRoute / GRPCRoute handles a request sent
 * to a Service port. Built once per config version; `select` is on the hot path, so matches are
 * compiled and sorted by precedence up front and `select` is a scan to the first hit.
 *
 * Attachment follows GAMMA (GEP-1294, "xRoutes Mesh Binding"):
 * - a route attaches through a Service parentRef, by hostname or by name + namespace (an empty
 *   namespace is the route's own); parent port 0 means every port of the Service, otherwise only
 *   that port (GEP-1294 "Ports");
 * - with no route attached the Service keeps its implicit behaviour (GEP-1294 "Route presence"):
 *   `default`, the waypoint forwards to the Service itself, as Istio does; once routes attach they
 *   replace it, and a request none of them matches is answered 404 (`no-match`);
 * - `hostnames` is ignored: "GAMMA implementations SHOULD NOT infer any functionality from the
 *   hostnames field on xRoutes" (GEP-1294 "hostnames field"). Match the Host header instead;
 * - when GRPCRoutes and HTTPRoutes attach to the same Service port only the GRPCRoutes apply
 *   (GEP-1294 "Route types": GRPCRoute is more specific; the GRPCRoute spec forbids merging the
 *   two). The ignored HTTPRoutes should carry RouteReasonConflicted in their status.
 */
import type { Route__Output } from '../../common/proto/generated/ambit/v1/Route';
import type { RouteMatch__Output } from '../../common/proto/generated/ambit/v1/RouteMatch';
import type { RouteRule__Output } from '../../common/proto/generated/ambit/v1/RouteRule';
import type { RequestFacts } from '../pipeline/request-facts';
import { compareGrpc, compareHttp, type Ranked } from './precedence';
import { compileMatch } from './route-match';
import { RequestView } from './request-view';

export interface ServiceRef {
  readonly hostname: string;
  readonly name: string;
  readonly namespace: string;
}

export type RouteSelection =
  | {
      kind: 'matched';
      route: Route__Output;
      rule: RouteRule__Output;
      ruleIndex: number;
      match: RouteMatch__Output | null;
      /** "<namespace>/<name>" of the route, for telemetry. */
      name: string;
    }
  | { kind: 'default' }
  | { kind: 'no-match'; routes: string[] };

export type MatchedSelection = Extract<RouteSelection, { kind: 'matched' }>;

interface Candidate extends Ranked {
  /** Built once, so a match allocates nothing. */
  readonly selection: MatchedSelection;
}

interface CompiledRoute {
  readonly name: string;
  readonly grpc: boolean;
  readonly candidates: readonly Candidate[];
}

interface Attachment {
  readonly route: CompiledRoute;
  /** 0 = every port. */
  readonly port: number;
}

interface PortRoutes {
  readonly candidates: readonly Candidate[];
  readonly names: readonly string[];
  readonly noMatch: RouteSelection;
}

interface ServiceRoutes {
  /** Routes for ports some parentRef names explicitly. */
  readonly byPort: ReadonlyMap<number, PortRoutes>;
  /** Routes for every other port; null = none attached (`default`). */
  readonly otherPorts: PortRoutes | null;
}

const DEFAULT: RouteSelection = Object.freeze({ kind: 'default' });

function compileRoute(route: Route__Output): CompiledRoute {
  const name = `${route.namespace}/${route.name}`;
  const grpc = route.kind === 'GRPC';
  const candidates: Candidate[] = [];
  route.rules.forEach((rule, ruleIndex) => {
    // control-plane/translate makes "no matches" explicit; a hand-built rule without any still
    // matches every request of its kind.
    const matches: ReadonlyArray<RouteMatch__Output | null> = rule.matches.length > 0 ? rule.matches : [null];
    matches.forEach((match, matchIndex) => {
      candidates.push({
        compiled: compileMatch(match, grpc),
        createdMs: route.creationTimestampMs,
        name,
        ruleIndex,
        matchIndex,
        selection: Object.freeze({ kind: 'matched', route, rule, ruleIndex, match, name }),
      });
    });
  });
  return { name, grpc, candidates };
}

function push<K>(map: Map<K, Attachment[]>, key: K, a: Attachment): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [a]);
  else list.push(a);
}

/** The sorted candidates of the routes that apply to `port` (0 = only the every-port ones). */
function portRoutes(attachments: readonly Attachment[], port: number): PortRoutes | null {
  const routes = new Set<CompiledRoute>();
  for (const a of attachments) if (a.port === 0 || a.port === port) routes.add(a.route);
  if (routes.size === 0) return null;
  let applied = [...routes];
  if (applied.some((r) => r.grpc)) applied = applied.filter((r) => r.grpc);
  const candidates = applied.flatMap((r) => r.candidates).sort(applied[0].grpc ? compareGrpc : compareHttp);
  // Shared by every no-match answer of this port: frozen so a caller cannot corrupt it.
  const names = Object.freeze(applied.map((r) => r.name).sort()) as string[];
  return { candidates, names, noMatch: Object.freeze({ kind: 'no-match', routes: names }) };
}

export class RouteTable {
  private readonly byHostname = new Map<string, Attachment[]>();
  /** Keyed "<namespace>/<name>". */
  private readonly byName = new Map<string, Attachment[]>();
  /** hostname -> namespace -> name -> routes, filled on first use of each Service. */
  private readonly services = new Map<string, Map<string, Map<string, ServiceRoutes>>>();

  constructor(routes: readonly Route__Output[]) {
    for (const route of routes) {
      const compiled = compileRoute(route);
      for (const p of route.parents) {
        const a: Attachment = { route: compiled, port: p.port };
        if (p.serviceHostname !== '') push(this.byHostname, p.serviceHostname, a);
        if (p.serviceName !== '') push(this.byName, `${p.serviceNamespace || route.namespace}/${p.serviceName}`, a);
      }
    }
  }

  select(service: ServiceRef, port: number, req: RequestFacts): RouteSelection {
    const routes = this.routesOf(service);
    const forPort = routes.byPort.get(port) ?? routes.otherPorts;
    if (forPort === null) return DEFAULT;
    const view = new RequestView(req);
    for (const c of forPort.candidates) if (c.compiled.test(view)) return c.selection;
    return forPort.noMatch;
  }

  /** Names ("<namespace>/<name>") of the routes applied to a Service port; empty = `default`. */
  attached(service: ServiceRef, port: number): string[] {
    const routes = this.routesOf(service);
    const forPort = routes.byPort.get(port) ?? routes.otherPorts;
    return forPort === null ? [] : [...forPort.names];
  }

  private routesOf(s: ServiceRef): ServiceRoutes {
    let byNs = this.services.get(s.hostname);
    if (byNs === undefined) this.services.set(s.hostname, (byNs = new Map()));
    let byName = byNs.get(s.namespace);
    if (byName === undefined) byNs.set(s.namespace, (byName = new Map()));
    let routes = byName.get(s.name);
    if (routes === undefined) byName.set(s.name, (routes = this.build(s)));
    return routes;
  }

  private build(s: ServiceRef): ServiceRoutes {
    // One route may reach the Service both by hostname and by name; Set dedupes in portRoutes.
    const attachments = [...(this.byHostname.get(s.hostname) ?? []), ...(this.byName.get(`${s.namespace}/${s.name}`) ?? [])];
    const byPort = new Map<number, PortRoutes>();
    for (const a of attachments) {
      if (a.port !== 0 && !byPort.has(a.port)) byPort.set(a.port, portRoutes(attachments, a.port) as PortRoutes);
    }
    return { byPort, otherPorts: portRoutes(attachments, 0) };
  }
}
