/**
 * The request as L7 authorization rules see it: RequestFacts plus what request authentication
 * found, parsed once per request (addresses to bytes, path without query, host without port).
 */
import { IpValue, ipValue } from '../../common/policy/address-match';
import { headerValue, hostOnly, pathOnly, RequestFacts } from '../pipeline/request-facts';
import type { AuthnFacts } from './authn-facts';
import { normalizePath } from './path-match';

export interface L7Facts {
  /** "td/ns/<ns>/sa/<sa>"; undefined without a peer identity (plaintext). */
  readonly principal: string | undefined;
  readonly namespace: string | undefined;
  readonly source: IpValue;
  /** The original client: first X-Forwarded-For address, else the source. */
  readonly remote: IpValue;
  readonly destination: IpValue;
  readonly port: number;
  /** Lower-cased Host/:authority as sent, and without its port. */
  readonly host: string;
  readonly hostNoPort: string;
  readonly method: string;
  /** Path without query, dot segments resolved. */
  readonly path: string;
  readonly req: RequestFacts;
  readonly auth: AuthnFacts | undefined;
}

const SPIFFE = 'spiffe://';

function principalOf(req: RequestFacts): string | undefined {
  const p = req.source.principal ?? req.source.identity;
  if (p === undefined || p === '') return undefined;
  return p.startsWith(SPIFFE) ? p.slice(SPIFFE.length) : p;
}

function namespaceOf(principal: string | undefined, given: string | undefined): string | undefined {
  // Istio's source.namespace comes from the peer certificate: no identity, no namespace.
  if (principal === undefined) return undefined;
  if (given !== undefined && given !== '') return given;
  const parts = principal.split('/');
  return parts.length === 5 && parts[1] === 'ns' ? parts[2] : undefined;
}

/**
 * Istio's remote.ip / remoteIpBlocks: the original client as X-Forwarded-For reports it (Envoy with
 * the mesh's trusted-hop setting), the connection peer when the header is absent or unparsable.
 */
function remoteOf(req: RequestFacts): IpValue {
  const xff = headerValue(req.headers, 'x-forwarded-for');
  const first = xff?.split(',')[0]?.trim();
  if (first !== undefined && first !== '') {
    const v = ipValue(first);
    if (v.key !== undefined) return v;
  }
  return ipValue(req.source.address);
}

export function l7Facts(req: RequestFacts, auth: AuthnFacts | undefined): L7Facts {
  const principal = principalOf(req);
  const host = req.host.toLowerCase();
  return {
    principal,
    namespace: namespaceOf(principal, req.source.namespace),
    source: ipValue(req.source.address),
    remote: remoteOf(req),
    destination: ipValue(req.destination.address),
    port: req.destination.port,
    host,
    hostNoPort: hostOnly(host),
    method: req.method,
    path: normalizePath(pathOnly(req.path)),
    req,
    auth,
  };
}
