// waypoint/security/l7-authorization.ts: Istio AuthorizationPolicy objects as written go through
// the real translator and proto codec (what a waypoint receives), then decide requests.
import { translateAuthorization, AuthorizationPolicySpec } from '../../control-plane/translate/authorization';
import { DEFAULT_MESH_CONFIG, TranslateContext } from '../../control-plane/translate/context';
import type { KubeStore } from '../../control-plane/model/kube-store';
import { decodeResource, encodeResource } from '../../common/proto/codec';
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';
import { authorizeRequest, AuthnFacts, policiesForWaypoint } from '../../waypoint/security/l7-authorization';

const SHOP = 'cluster.local/ns/frontend/sa/shop';
// No Gateway objects: a GatewayClass ref stays as written (the translator expands it per waypoint Gateway).
const ctx: TranslateContext = { mesh: DEFAULT_MESH_CONFIG, kube: { list: () => [] } as unknown as KubeStore };
const WAYPOINT_REF = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' };

let seq = 0;
function policy(spec: AuthorizationPolicySpec, meta: { name?: string; namespace?: string; dryRun?: boolean } = {}): Authorization__Output {
  const obj = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: meta.name ?? `p${++seq}`, namespace: meta.namespace ?? 'prod', annotations: meta.dryRun ? { 'istio.io/dry-run': 'true' } : {} },
    spec: { targetRefs: [WAYPOINT_REF], ...spec },
  };
  return decodeResource(encodeResource({ authorization: translateAuthorization(ctx, obj as never, () => undefined) })).authorization!;
}

const req = (r: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'web.prod.svc.cluster.local',
  headers: {},
  protocol: 'HTTP/1.1',
  grpc: false,
  source: { address: '10.1.0.7', port: 40000, identity: `spiffe://${SHOP}`, principal: SHOP, namespace: 'frontend' },
  destination: { address: '10.96.0.10', port: 80 },
  ...r,
});
const plaintext = (r: Partial<RequestFacts> = {}): RequestFacts => req({ source: { address: '10.1.0.7', port: 40000 }, ...r });

/** Allowed by one ALLOW policy with this single rule? */
function allows(rule: NonNullable<AuthorizationPolicySpec['rules']>[number], r: RequestFacts = req(), auth?: AuthnFacts): boolean {
  return authorizeRequest([policy({ action: 'ALLOW', rules: [rule] })], r, auth).allowed;
}

describe('source fields', () => {
  test('principals and notPrincipals, with wildcards', () => {
    expect(allows({ from: [{ source: { principals: [SHOP] } }] })).toBe(true);
    expect(allows({ from: [{ source: { principals: ['cluster.local/ns/frontend/*'] } }] })).toBe(true);
    expect(allows({ from: [{ source: { principals: ['*/sa/other'] } }] })).toBe(false);
    expect(allows({ from: [{ source: { notPrincipals: [SHOP] } }] })).toBe(false);
    expect(allows({ from: [{ source: { notPrincipals: ['cluster.local/ns/ops/*'] } }] })).toBe(true);
  });

  test('namespaces and notNamespaces', () => {
    expect(allows({ from: [{ source: { namespaces: ['frontend'] } }] })).toBe(true);
    expect(allows({ from: [{ source: { namespaces: ['ops'] } }] })).toBe(false);
    expect(allows({ from: [{ source: { notNamespaces: ['frontend'] } }] })).toBe(false);
  });

  test('a request without identity matches no principal or namespace, and no not-form excludes it', () => {
    expect(allows({ from: [{ source: { principals: ['*'] } }] }, plaintext())).toBe(false);
    expect(allows({ from: [{ source: { namespaces: ['*'] } }] }, plaintext())).toBe(false);
    expect(allows({ from: [{ source: { notPrincipals: ['*'] } }] }, plaintext())).toBe(true);
    expect(allows({ from: [{ source: { notNamespaces: ['frontend'] } }] }, plaintext())).toBe(true);
  });

  test('ipBlocks and notIpBlocks on the source address', () => {
    expect(allows({ from: [{ source: { ipBlocks: ['10.1.0.0/16'] } }] })).toBe(true);
    expect(allows({ from: [{ source: { ipBlocks: ['10.2.0.0/16', '10.1.0.7'] } }] })).toBe(true);
    expect(allows({ from: [{ source: { ipBlocks: ['10.2.0.0/16'] } }] })).toBe(false);
    expect(allows({ from: [{ source: { notIpBlocks: ['10.0.0.0/8'] } }] })).toBe(false);
  });

  test('remoteIpBlocks use the first X-Forwarded-For address, else the source', () => {
    const rule = { from: [{ source: { remoteIpBlocks: ['203.0.113.0/24'] } }] };
    expect(allows(rule, req({ headers: { 'x-forwarded-for': '203.0.113.9, 10.1.0.7' } }))).toBe(true);
    expect(allows(rule)).toBe(false);
    expect(allows({ from: [{ source: { remoteIpBlocks: ['10.1.0.7'] } }] })).toBe(true);
    expect(allows({ from: [{ source: { notRemoteIpBlocks: ['203.0.113.0/24'] } }] }, req({ headers: { 'x-forwarded-for': '203.0.113.9' } }))).toBe(false);
  });

  test('requestPrincipals need a verified JWT; wildcards and not-form', () => {
    const auth: AuthnFacts = { principal: 'https://issuer.example/alice' };
    expect(allows({ from: [{ source: { requestPrincipals: ['*'] } }] }, req(), auth)).toBe(true);
    expect(allows({ from: [{ source: { requestPrincipals: ['*'] } }] })).toBe(false);
    expect(allows({ from: [{ source: { requestPrincipals: ['https://issuer.example/*'] } }] }, req(), auth)).toBe(true);
    expect(allows({ from: [{ source: { requestPrincipals: ['*/bob'] } }] }, req(), auth)).toBe(false);
    expect(allows({ from: [{ source: { notRequestPrincipals: ['*'] } }] }, req(), auth)).toBe(false);
    expect(allows({ from: [{ source: { notRequestPrincipals: ['*'] } }] })).toBe(true);
  });
});

describe('operation fields', () => {
  test('hosts match case-insensitively, with or without the port; notHosts', () => {
    expect(allows({ to: [{ operation: { hosts: ['Web.Prod.svc.cluster.local'] } }] })).toBe(true);
    expect(allows({ to: [{ operation: { hosts: ['web.prod.svc.cluster.local'] } }] }, req({ host: 'web.prod.svc.cluster.local:8080' }))).toBe(true);
    expect(allows({ to: [{ operation: { hosts: ['web.prod.svc.cluster.local:8080'] } }] })).toBe(false);
    expect(allows({ to: [{ operation: { hosts: ['*.prod.svc.cluster.local'] } }] }, req({ host: 'web.prod.svc.cluster.local:80' }))).toBe(true);
    expect(allows({ to: [{ operation: { hosts: ['other.example'] } }] })).toBe(false);
    expect(allows({ to: [{ operation: { notHosts: ['WEB.prod.svc.cluster.local'] } }] })).toBe(false);
  });

  test('methods and notMethods', () => {
    expect(allows({ to: [{ operation: { methods: ['GET', 'HEAD'] } }] })).toBe(true);
    expect(allows({ to: [{ operation: { methods: ['POST'] } }] })).toBe(false);
    expect(allows({ to: [{ operation: { notMethods: ['GET'] } }] })).toBe(false);
  });

  test('paths: exact, prefix, suffix, presence, without the query', () => {
    const at = (paths: string[], path: string): boolean => allows({ to: [{ operation: { paths } }] }, req({ path }));
    expect(at(['/api/items'], '/api/items?x=1')).toBe(true);
    expect(at(['/api/items'], '/api/items/1')).toBe(false);
    expect(at(['/api/*'], '/api/items/1')).toBe(true);
    expect(at(['*.json'], '/data/x.json?pretty')).toBe(true);
    expect(at(['*'], '/anything')).toBe(true);
    expect(at(['/API/*'], '/api/x')).toBe(false);
    expect(allows({ to: [{ operation: { notPaths: ['/admin*'] } }] }, req({ path: '/admin/x' }))).toBe(false);
  });

  test('paths: {*} is one segment, {**} the rest', () => {
    const at = (paths: string[], path: string): boolean => allows({ to: [{ operation: { paths } }] }, req({ path }));
    expect(at(['/users/{*}/orders'], '/users/42/orders')).toBe(true);
    expect(at(['/users/{*}/orders'], '/users/42/x/orders')).toBe(false);
    expect(at(['/users/{*}/orders'], '/users//orders')).toBe(false);
    expect(at(['/files/{**}'], '/files/a/b/c.txt')).toBe(true);
    expect(at(['/files/{**}'], '/other/a')).toBe(false);
  });

  test('dot segments cannot dodge a DENY path', () => {
    const deny = policy({ action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] });
    expect(authorizeRequest([deny], req({ path: '/public/../admin/users' }), undefined).allowed).toBe(false);
    expect(authorizeRequest([deny], req({ path: '/public/./x' }), undefined).allowed).toBe(true);
  });

  test('ports and notPorts are the destination port', () => {
    expect(allows({ to: [{ operation: { ports: ['80'] } }] })).toBe(true);
    expect(allows({ to: [{ operation: { ports: ['8080'] } }] })).toBe(false);
    expect(allows({ to: [{ operation: { notPorts: ['80'] } }] })).toBe(false);
  });
});

describe('when conditions', () => {
  const when = (key: string, values?: string[], notValues?: string[]) => ({ when: [{ key, values, notValues }] });

  test('request.headers[...] (name case-insensitive, several values joined)', () => {
    expect(allows(when('request.headers[X-User]', ['alice']), req({ headers: { 'x-user': 'alice' } }))).toBe(true);
    expect(allows(when('request.headers[x-user]', ['alice']))).toBe(false);
    expect(allows(when('request.headers[x-user]', ['*']), req({ headers: { 'x-user': '' } }))).toBe(false);
    expect(allows(when('request.headers[x-user]', undefined, ['bob*']), req({ headers: { 'x-user': 'bobby' } }))).toBe(false);
    expect(allows(when('request.headers[x-tag]', ['a,b']), req({ headers: { 'x-tag': ['a', 'b'] as unknown as string } }))).toBe(true);
  });

  test('request.auth.claims: top level, nested, list, not-form', () => {
    const auth: AuthnFacts = { claims: { iss: 'https://issuer.example', groups: ['dev', 'ops'], org: { team: { name: 'payments' } }, admin: true } };
    expect(allows(when('request.auth.claims[iss]', ['https://issuer.example']), req(), auth)).toBe(true);
    expect(allows(when('request.auth.claims[groups]', ['ops']), req(), auth)).toBe(true);
    expect(allows(when('request.auth.claims[groups]', ['qa']), req(), auth)).toBe(false);
    expect(allows(when('request.auth.claims[groups]', undefined, ['dev']), req(), auth)).toBe(false);
    expect(allows(when('request.auth.claims[org][team][name]', ['pay*']), req(), auth)).toBe(true);
    expect(allows(when('request.auth.claims[org][team]', ['*']), req(), auth)).toBe(false);
    expect(allows(when('request.auth.claims[admin]', ['true']), req(), auth)).toBe(true);
    expect(allows(when('request.auth.claims[iss]', ['*']))).toBe(false);
  });

  test('request.auth.principal, audiences, presenter', () => {
    const auth: AuthnFacts = { principal: 'iss/alice', audiences: ['api', 'web'], presenter: 'cli' };
    expect(allows(when('request.auth.principal', ['iss/alice']), req(), auth)).toBe(true);
    expect(allows(when('request.auth.audiences', ['web']), req(), auth)).toBe(true);
    expect(allows(when('request.auth.audiences', ['other']), req(), auth)).toBe(false);
    expect(allows(when('request.auth.presenter', ['cli']), req(), auth)).toBe(true);
    expect(allows(when('request.auth.presenter', ['*']))).toBe(false);
  });

  test('connection and address keys', () => {
    const xff = req({ headers: { 'x-forwarded-for': '198.51.100.4' } });
    expect(allows(when('source.ip', ['10.1.0.0/16']))).toBe(true);
    expect(allows(when('remote.ip', ['198.51.100.4']), xff)).toBe(true);
    expect(allows(when('remote.ip', ['198.51.100.4']))).toBe(false);
    expect(allows(when('destination.ip', ['10.96.0.10']))).toBe(true);
    expect(allows(when('destination.port', ['80']))).toBe(true);
    expect(allows(when('destination.port', undefined, ['80']))).toBe(false);
    expect(allows(when('source.namespace', ['frontend']))).toBe(true);
    expect(allows(when('source.namespace', ['frontend']), plaintext())).toBe(false);
    expect(allows(when('source.principal', [SHOP]))).toBe(true);
    expect(allows(when('connection.sni', ['*']))).toBe(false);
  });

  test('an unknown key fails closed: an ALLOW rule never matches, a DENY rule does', () => {
    expect(allows(when('request.regex.headers[x]', ['a']))).toBe(false);
    const deny = policy({ action: 'DENY', rules: [when('no.such.key', ['x'])] });
    const d = authorizeRequest([deny], req(), undefined);
    expect(d.allowed).toBe(false);
    expect(d.policy).toBe(`prod/${deny.name}`);
  });
});

describe('decision', () => {
  test('no policy: allowed', () => {
    expect(authorizeRequest([], req(), undefined)).toEqual({ allowed: true, reason: 'allowed: no ALLOW policy applies', audit: [], dryRun: [] });
  });

  test('DENY is evaluated before ALLOW and names the policy', () => {
    const allow = policy({ action: 'ALLOW', rules: [{}] }, { name: 'allow-all' });
    const deny = policy({ action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }, { name: 'no-delete' });
    const d = authorizeRequest([allow, deny], req({ method: 'DELETE' }), undefined);
    expect(d).toMatchObject({ allowed: false, policy: 'prod/no-delete' });
    expect(authorizeRequest([allow, deny], req(), undefined)).toMatchObject({ allowed: true, policy: 'prod/allow-all' });
  });

  test('when an ALLOW policy applies, the request must match one', () => {
    const allow = policy({ action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/public*'] } }] }] }, { name: 'public' });
    const d = authorizeRequest([allow], req({ path: '/private' }), undefined);
    expect(d.allowed).toBe(false);
    expect(d.policy).toBeUndefined();
    expect(d.reason).toContain('prod/public');
  });

  test('empty rules: ALLOW allows nothing, DENY denies nothing', () => {
    const allowNothing = policy({ action: 'ALLOW' });
    const denyNothing = policy({ action: 'DENY' });
    expect(authorizeRequest([allowNothing], req(), undefined).allowed).toBe(false);
    expect(authorizeRequest([denyNothing], req(), undefined).allowed).toBe(true);
  });

  test('AUDIT policies are recorded and never decide', () => {
    const audit = policy({ action: 'AUDIT', rules: [{ to: [{ operation: { paths: ['/api*'] } }] }] }, { name: 'audit-api' });
    const d = authorizeRequest([audit], req({ path: '/api/x' }), undefined);
    expect(d).toMatchObject({ allowed: true, audit: ['prod/audit-api'] });
    expect(authorizeRequest([audit], req({ path: '/x' }), undefined).audit).toEqual([]);
  });

  test('dry-run policies are reported, not enforced', () => {
    const deny = policy({ action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }, { name: 'dry-deny', dryRun: true });
    const allow = policy({ action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/ok'] } }] }] }, { name: 'dry-allow', dryRun: true });
    const d = authorizeRequest([deny, allow], req({ method: 'POST', path: '/nope' }), undefined);
    expect(d.allowed).toBe(true);
    expect(d.dryRun).toEqual([
      { policy: 'prod/dry-deny', wouldDeny: true },
      { policy: 'prod/dry-allow', wouldDeny: true },
    ]);
    expect(authorizeRequest([deny, allow], req({ path: '/ok' }), undefined).dryRun.map((x) => x.wouldDeny)).toEqual([false, false]);
  });
});

describe('policiesForWaypoint', () => {
  const waypoint = { namespace: 'prod', name: 'waypoint' };
  const svc = { namespace: 'prod', name: 'web' };
  const p = (name: string, namespace: string, refs: Array<{ group?: string; kind: string; name: string; namespace?: string }>): Authorization__Output =>
    policy({ targetRefs: refs, rules: [{}] }, { name, namespace });

  test('Gateway, Service and waypoint GatewayClass attachments, sorted', () => {
    const all = [
      p('z-gw', 'prod', [WAYPOINT_REF]),
      p('svc', 'prod', [{ kind: 'Service', group: '', name: 'web' }]),
      p('other-svc', 'prod', [{ kind: 'Service', name: 'db' }]),
      p('other-ns', 'test', [WAYPOINT_REF]),
      p('mesh', 'istio-system', [{ kind: 'GatewayClass', group: 'gateway.networking.k8s.io', name: 'istio-waypoint' }]),
      p('class-not-root', 'prod', [{ kind: 'GatewayClass', group: 'gateway.networking.k8s.io', name: 'istio-waypoint' }]),
      p('other-gw', 'prod', [{ ...WAYPOINT_REF, name: 'other' }]),
      // What the translator adds for a GatewayClass ref: the waypoint Gateway, in its own namespace.
      p('expanded', 'istio-system', [{ ...WAYPOINT_REF, namespace: 'prod' }]),
    ];
    expect(policiesForWaypoint(all, waypoint, svc).map((x) => `${x.namespace}/${x.name}`)).toEqual(['istio-system/expanded', 'istio-system/mesh', 'prod/svc', 'prod/z-gw']);
    expect(policiesForWaypoint(all, waypoint, undefined).map((x) => x.name)).toEqual(['expanded', 'mesh', 'z-gw']);
  });

  test('selector and namespace-wide policies belong to agents', () => {
    const selectorPolicy = decodeResource(
      encodeResource({
        authorization: translateAuthorization(ctx, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'sel', namespace: 'prod' }, spec: { selector: { matchLabels: { app: 'web' } } } } as never, () => undefined),
      }),
    ).authorization!;
    expect(policiesForWaypoint([selectorPolicy], waypoint, svc)).toEqual([]);
  });
});
