/**
 * authorize: RequestAuthentication then AuthorizationPolicy, as Istio orders them. A JWT that is
 * present but invalid is refused with 401 whatever the policies say; a request without a token
 * continues without a request principal, and authorization decides (403 "RBAC: access denied").
 * AUDIT matches and dry-run verdicts are only recorded.
 */
import type { Logger } from '../../common/log';
import { WaypointErrorCodes } from '../errors';
import { authorizeRequest, type AuthnFacts } from '../security/l7-authorization';
import { unauthorizedResponse, type RequestAuthenticator } from '../security/request-authentication';
import type { Exchange } from './exchange';

export interface AuthorizeDeps {
  readonly authenticatorFor: (ex: Exchange) => RequestAuthenticator;
  readonly logger: Logger;
}

/** True when the request may go on; otherwise it has been answered. */
export async function authorize(ex: Exchange, deps: AuthorizeDeps): Promise<boolean> {
  const result = await deps.authenticatorFor(ex).authenticate(ex.facts);
  let auth: AuthnFacts | undefined;
  if (result.kind === 'invalid') {
    const r = unauthorizedResponse(result);
    ex.reply(r.status, r.body, { flag: 'UAEX', code: WaypointErrorCodes.INVALID_TOKEN, headers: r.headers });
    return false;
  }
  if (result.kind === 'authenticated') {
    auth = result.auth;
    const h = ex.facts.headers;
    for (const name of result.removeHeaders) delete h[name.toLowerCase()];
    for (const [k, v] of Object.entries(result.setHeaders)) h[k.toLowerCase()] = v;
    if (result.removeQueryParams.length > 0) ex.rewrittenPath = withoutQueryParams(ex.rewrittenPath ?? ex.facts.path, result.removeQueryParams);
  }
  const policies = ex.view.authorizationsFor(ex.service);
  if (policies.length === 0) return true;
  const verdict = authorizeRequest(policies, ex.facts, auth);
  ex.policy = verdict.policy;
  for (const d of verdict.dryRun) deps.logger.info({ policy: d.policy, wouldDeny: d.wouldDeny, path: ex.facts.path }, 'dry-run authorization policy');
  if (!verdict.allowed) {
    ex.reply(403, 'RBAC: access denied', { flag: 'UAEX', code: WaypointErrorCodes.DENIED });
    ex.error = { code: WaypointErrorCodes.DENIED, message: verdict.reason };
    return false;
  }
  return true;
}

function withoutQueryParams(path: string, names: readonly string[]): string {
  const q = path.indexOf('?');
  if (q === -1) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  for (const n of names) params.delete(n);
  const rest = params.toString();
  return rest ? `${path.slice(0, q)}?${rest}` : path.slice(0, q);
}
