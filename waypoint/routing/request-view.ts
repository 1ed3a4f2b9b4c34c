/**
 * The parts of a request route matching reads, derived from RequestFacts once per `select` and
 * only when a candidate needs them (most routes never look at the query string).
 */
import { pathOnly, type RequestFacts } from '../pipeline/request-facts';

export interface GrpcParts {
  readonly service: string;
  readonly method: string;
}

function decode(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // malformed escapes are matched as sent
  }
}

/**
 * Query parameters, percent-decoded ("+" is left as is: it means a space only in form bodies).
 * A repeated parameter keeps its first value, as HTTPQueryParamMatch recommends.
 */
export function parseQuery(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = path.indexOf('?');
  if (q === -1) return out;
  let end = path.indexOf('#', q);
  if (end === -1) end = path.length;
  for (const pair of path.slice(q + 1, end).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    if (!out.has(name)) out.set(name, eq === -1 ? '' : decode(pair.slice(eq + 1)));
  }
  return out;
}

/** "/<service>/<method>" of a gRPC ":path", or null when the path has another shape. */
export function grpcPathParts(path: string): GrpcParts | null {
  if (path.charCodeAt(0) !== 47) return null;
  const slash = path.indexOf('/', 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return null;
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

export class RequestView {
  /** The path without its query string. */
  readonly path: string;
  private query: Map<string, string> | undefined;
  private grpc: GrpcParts | null | undefined;

  constructor(readonly req: RequestFacts) {
    this.path = pathOnly(req.path);
  }

  queryParam(name: string): string | undefined {
    if (this.query === undefined) this.query = parseQuery(this.req.path);
    return this.query.get(name);
  }

  grpcParts(): GrpcParts | null {
    if (this.grpc === undefined) this.grpc = grpcPathParts(this.path);
    return this.grpc;
  }
}
