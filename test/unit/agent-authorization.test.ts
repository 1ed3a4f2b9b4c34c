// agent/policy/authorization.ts: Istio AuthorizationPolicy objects as written go through the real
// control-plane model and the real proto codec (what an agent receives), then get decided for
// connections. A few cases hand-build what the translator never emits, to pin the fallbacks.
import { authorize, AuthorizationDecision, L4Connection, policiesFor } from '../../agent/policy/authorization';
import type { KubeObject } from '../../control-plane/kube/objects';
import { MeshModel } from '../../control-plane/model/mesh-model';
import { decodeResource, encodeResource } from '../../common/proto/codec';
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { Rule__Output } from '../../common/proto/generated/ambit/v1/Rule';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { authorizationPolicy, namespace, pod } from '../support/kube-fixtures';

const SHOP = 'cluster.local/ns/frontend/sa/shop';
const ADMIN = 'cluster.local/ns/ops/sa/admin';

const BASE_OBJECTS: KubeObject[] = [
  namespace('prod', { 'istio.io/dataplane-mode': 'ambient' }),
  namespace('other', { 'istio.io/dataplane-mode': 'ambient' }),
  namespace('istio-system'),
  pod('web-0', { namespace: 'prod', ip: '10.0.0.5', labels: { app: 'web' }, serviceAccount: 'web' }),
  pod('db-0', { namespace: 'prod', ip: '10.0.0.6', labels: { app: 'db' }, serviceAccount: 'db' }),
];

interface Compiled {
  policies: Map<string, Authorization__Output>;
  workload(name: string, ns?: string): Workload__Output;
}

/** Objects -> MeshModel -> encoded Resources -> decoded as the agent's config client decodes them. */
function compile(objects: KubeObject[]): Compiled {
  const model = new MeshModel();
  const sink = model.sinkFor('test');
  sink.apply({ upsert: [...BASE_OBJECTS, ...objects], remove: [] });
  sink.synced();
  expect(model.problems().filter((p) => p.severity === 'error')).toEqual([]);
  const policies = new Map<string, Authorization__Output>();
  for (const r of model.resources.ofType('AUTHORIZATION')) policies.set(r.name, decodeResource(encodeResource(r.resource)).authorization!);
  return {
    policies,
    workload(name, ns = 'prod') {
      const r = model.resources.get(`WORKLOAD:Kubernetes//Pod/${ns}/${name}`);
      return decodeResource(encodeResource(r!.resource)).workload!;
    },
  };
}

const conn = (c: Partial<L4Connection> = {}): L4Connection => ({
  sourcePrincipal: SHOP,
  sourceIp: '10.1.0.7',
  destinationIp: '10.0.0.5',
  destinationPort: 8080,
  ...c,
});
const plaintext = (c: Partial<L4Connection> = {}): L4Connection => ({ ...conn(c), sourcePrincipal: undefined });

/** Decides connections to prod/web-0 under `objects`. */
function decider(...objects: KubeObject[]): (c: L4Connection) => AuthorizationDecision {
  const compiled = compile(objects);
  const applicable = policiesFor(compiled.workload('web-0'), compiled.policies);
  return (c) => authorize(c, applicable);
}

const allow = (name: string, rules: unknown[] | undefined, extra: Record<string, unknown> = {}, ns = 'prod'): KubeObject =>
  authorizationPolicy(name, ns, { action: 'ALLOW', ...(rules === undefined ? {} : { rules }), ...extra });
const deny = (name: string, rules: unknown[] | undefined, extra: Record<string, unknown> = {}, ns = 'prod'): KubeObject =>
  authorizationPolicy(name, ns, { action: 'DENY', ...(rules === undefined ? {} : { rules }), ...extra });
const from = (source: Record<string, unknown>) => ({ from: [{ source }] });
const allowed = (d: AuthorizationDecision): boolean => d.allowed;

describe('policiesFor', () => {
  it('takes mesh-wide, own-namespace and selected policies, sorted; not other namespaces, other selectors or targetRefs', () => {
    const c = compile([
      allow('mesh', [{}], {}, 'istio-system'),
      allow('ns-wide', [{}]),
      allow('web-only', [{}], { selector: { matchLabels: { app: 'web' } } }),
      allow('db-only', [{}], { selector: { matchLabels: { app: 'db' } } }),
      allow('elsewhere', [{}], {}, 'other'),
      allow('at-waypoint', [{}], { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }] }),
    ]);
    expect(policiesFor(c.workload('web-0'), c.policies).map((p) => `${p.namespace}/${p.name}`)).toEqual([
      'istio-system/mesh',
      'prod/ns-wide',
      'prod/web-only',
    ]);
    expect(policiesFor(c.workload('db-0'), [...c.policies.values()]).map((p) => p.name)).toEqual(['mesh', 'db-only', 'ns-wide']);
  });

  it('applies a root-namespace selector policy to matching workloads of every namespace', () => {
    const c = compile([allow('web-everywhere', [{}], { selector: { matchLabels: { app: 'web' } } }, 'istio-system')]);
    expect(policiesFor(c.workload('web-0'), c.policies).map((p) => p.name)).toEqual(['web-everywhere']);
    expect(policiesFor(c.workload('db-0'), c.policies)).toEqual([]);
  });
});

describe('policy shapes (Istio: allow-nothing, allow-all, deny-all)', () => {
  it('allows everything when no policy applies', () => {
    const d = decider()(conn());
    expect(d).toMatchObject({ allowed: true, action: 'NONE', policy: undefined, audit: [], dryRun: [], dryRunAllowed: true });
  });

  it('ALLOW with no rules denies everything it selects (allow-nothing)', () => {
    const d = decider(allow('allow-nothing', undefined))(conn());
    expect(d).toMatchObject({ allowed: false, action: 'ALLOW', policy: undefined });
    expect(d.reason).toContain('prod/allow-nothing');
  });

  it('ALLOW with one empty rule allows everything (allow-all), plaintext too', () => {
    const decide = decider(allow('allow-all', [{}]));
    expect(decide(conn())).toMatchObject({ allowed: true, action: 'ALLOW', policy: 'prod/allow-all' });
    expect(decide(plaintext()).allowed).toBe(true);
  });

  it('DENY with no rules matches nothing', () => {
    expect(decider(deny('deny-nothing', undefined))(conn())).toMatchObject({ allowed: true, action: 'NONE' });
  });

  it('DENY with one empty rule denies everything', () => {
    expect(decider(deny('deny-all', [{}]))(plaintext())).toMatchObject({ allowed: false, action: 'DENY', policy: 'prod/deny-all' });
  });
});

describe('from.source principals and namespaces', () => {
  it('principals: exact', () => {
    const decide = decider(allow('p', [from({ principals: [SHOP] })]));
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(conn({ sourcePrincipal: ADMIN })))).toBe(false);
  });

  it('principals: prefix and suffix wildcards', () => {
    const prefix = decider(allow('p', [from({ principals: ['cluster.local/ns/frontend/*'] })]));
    expect(allowed(prefix(conn()))).toBe(true);
    expect(allowed(prefix(conn({ sourcePrincipal: ADMIN })))).toBe(false);
    const suffix = decider(allow('p', [from({ principals: ['*/sa/admin'] })]));
    expect(allowed(suffix(conn({ sourcePrincipal: ADMIN })))).toBe(true);
    expect(allowed(suffix(conn()))).toBe(false);
  });

  it('principals "*" means any authenticated peer: plaintext never matches', () => {
    const decide = decider(allow('mtls-only', [from({ principals: ['*'] })]));
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(plaintext()))).toBe(false);
  });

  it('notPrincipals excludes the listed peers; a plaintext peer is not excluded (ztunnel)', () => {
    const decide = decider(allow('not-admin', [from({ notPrincipals: [ADMIN] })]));
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(conn({ sourcePrincipal: ADMIN })))).toBe(false);
    expect(allowed(decide(plaintext()))).toBe(true);
  });

  it('DENY notPrincipals "*" refuses plaintext only (the Istio require-mTLS recipe)', () => {
    const decide = decider(deny('require-mtls', [from({ notPrincipals: ['*'] })]));
    expect(decide(plaintext())).toMatchObject({ allowed: false, policy: 'prod/require-mtls' });
    expect(allowed(decide(conn()))).toBe(true);
  });

  it('namespaces and notNamespaces come from the peer identity', () => {
    const only = decider(allow('ns', [from({ namespaces: ['frontend'] })]));
    expect(allowed(only(conn()))).toBe(true);
    expect(allowed(only(conn({ sourcePrincipal: ADMIN })))).toBe(false);
    expect(allowed(only(plaintext()))).toBe(false);
    const not = decider(allow('not-ops', [from({ notNamespaces: ['ops'] })]));
    expect(allowed(not(conn()))).toBe(true);
    expect(allowed(not(conn({ sourcePrincipal: ADMIN })))).toBe(false);
    expect(allowed(not(plaintext()))).toBe(true);
  });

  it('an explicit sourceNamespace wins over the principal; without a principal it is ignored', () => {
    const decide = decider(allow('ns', [from({ namespaces: ['ops'] })]));
    expect(allowed(decide(conn({ sourceNamespace: 'ops' })))).toBe(true);
    expect(allowed(decide(plaintext({ sourceNamespace: 'ops' })))).toBe(false);
  });

  it('tolerates a spiffe:// prefix on the connection principal', () => {
    expect(allowed(decider(allow('p', [from({ principals: [SHOP] })]))(conn({ sourcePrincipal: `spiffe://${SHOP}` })))).toBe(true);
  });
});

describe('from.source ipBlocks', () => {
  it('matches CIDRs and bare addresses, v4', () => {
    const decide = decider(allow('ips', [from({ ipBlocks: ['10.1.0.0/16', '192.168.1.1'] })]));
    expect(allowed(decide(conn({ sourceIp: '10.1.255.1' })))).toBe(true);
    expect(allowed(decide(conn({ sourceIp: '192.168.1.1' })))).toBe(true);
    expect(allowed(decide(conn({ sourceIp: '192.168.1.2' })))).toBe(false);
    expect(allowed(decide(conn({ sourceIp: '10.2.0.1' })))).toBe(false);
  });

  it('honours prefixes that do not end on a byte boundary', () => {
    const decide = decider(allow('ips', [from({ ipBlocks: ['172.16.0.0/12'] })]));
    expect(allowed(decide(conn({ sourceIp: '172.31.255.255' })))).toBe(true);
    expect(allowed(decide(conn({ sourceIp: '172.32.0.0' })))).toBe(false);
    expect(allowed(decide(conn({ sourceIp: '172.15.255.255' })))).toBe(false);
  });

  it('notIpBlocks excludes, and works for plaintext peers', () => {
    const decide = decider(allow('not-ips', [from({ notIpBlocks: ['10.1.0.0/24'] })]));
    expect(allowed(decide(plaintext({ sourceIp: '10.1.0.9' })))).toBe(false);
    expect(allowed(decide(plaintext({ sourceIp: '10.1.1.9' })))).toBe(true);
  });

  it('IPv6 blocks match IPv6 peers; families never cross', () => {
    const decide = decider(allow('v6', [from({ ipBlocks: ['fd00:1::/64'] })]));
    expect(allowed(decide(conn({ sourceIp: 'fd00:1::abcd' })))).toBe(true);
    expect(allowed(decide(conn({ sourceIp: 'fd00:1:0:1::1' })))).toBe(false);
    expect(allowed(decide(conn({ sourceIp: '10.1.0.7' })))).toBe(false);
    const everyV6 = decider(allow('v6-all', [from({ ipBlocks: ['::/0'] })]));
    expect(allowed(everyV6(conn({ sourceIp: '10.1.0.7' })))).toBe(false);
    expect(allowed(everyV6(conn({ sourceIp: '2001:db8::1' })))).toBe(true);
  });

  it('an IPv4-mapped IPv6 peer address counts as IPv4', () => {
    const decide = decider(allow('ips', [from({ ipBlocks: ['10.1.0.0/16'] })]));
    expect(allowed(decide(conn({ sourceIp: '::ffff:10.1.2.3' })))).toBe(true);
  });
});

describe('to.operation ports', () => {
  it('ports and notPorts', () => {
    const ports = decider(allow('ports', [{ to: [{ operation: { ports: ['8080', '9090'] } }] }]));
    expect(allowed(ports(conn({ destinationPort: 9090 })))).toBe(true);
    expect(allowed(ports(conn({ destinationPort: 8081 })))).toBe(false);
    const notPorts = decider(allow('not-ports', [{ to: [{ operation: { notPorts: ['15000'] } }] }]));
    expect(allowed(notPorts(conn({ destinationPort: 15000 })))).toBe(false);
    expect(allowed(notPorts(conn()))).toBe(true);
  });
});

describe('when conditions', () => {
  const when = (key: string, values?: string[], notValues?: string[]) => [{ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] }];

  it('source.ip: CIDR values and notValues', () => {
    const decide = decider(allow('w', when('source.ip', ['10.1.0.0/16'], ['10.1.9.0/24'])));
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(conn({ sourceIp: '10.1.9.1' })))).toBe(false);
    expect(allowed(decide(conn({ sourceIp: '10.9.0.1' })))).toBe(false);
  });

  it('destination.ip, v4 and v6', () => {
    const decide = decider(allow('w', when('destination.ip', ['10.0.0.5', 'fd00::/8'])));
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(conn({ destinationIp: 'fd00::5' })))).toBe(true);
    expect(allowed(decide(conn({ destinationIp: '10.0.0.6' })))).toBe(false);
  });

  it('destination.port values and notValues', () => {
    const values = decider(allow('w', when('destination.port', ['8080'])));
    expect(allowed(values(conn()))).toBe(true);
    expect(allowed(values(conn({ destinationPort: 80 })))).toBe(false);
    const notValues = decider(allow('w', when('destination.port', undefined, ['8080'])));
    expect(allowed(notValues(conn()))).toBe(false);
    expect(allowed(notValues(conn({ destinationPort: 80 })))).toBe(true);
  });

  it('source.namespace and source.principal, with plaintext never matching values', () => {
    const ns = decider(allow('w', when('source.namespace', ['front*'])));
    expect(allowed(ns(conn()))).toBe(true);
    expect(allowed(ns(plaintext()))).toBe(false);
    const principal = decider(allow('w', when('source.principal', undefined, [ADMIN])));
    expect(allowed(principal(conn()))).toBe(true);
    expect(allowed(principal(conn({ sourcePrincipal: ADMIN })))).toBe(false);
    expect(allowed(principal(plaintext()))).toBe(true);
  });

  it('every condition of a rule must hold', () => {
    const decide = decider(allow('w', [{ when: [{ key: 'source.namespace', values: ['frontend'] }, { key: 'destination.port', values: ['8080'] }] }]));
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(conn({ destinationPort: 8081 })))).toBe(false);
    expect(allowed(decide(conn({ sourcePrincipal: ADMIN })))).toBe(false);
  });
});

describe('combining entries, fields and rules', () => {
  it('fields of a source are ANDed, from entries ORed', () => {
    const decide = decider(
      allow('combo', [{ from: [{ source: { namespaces: ['frontend'], ipBlocks: ['10.1.0.0/16'] } }, { source: { principals: [ADMIN] } }] }]),
    );
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(conn({ sourceIp: '10.2.0.1' })))).toBe(false); // namespace ok, IP not
    expect(allowed(decide(conn({ sourcePrincipal: ADMIN, sourceIp: '10.2.0.1' })))).toBe(true); // second entry
  });

  it('from and to of one rule are ANDed; rules are ORed', () => {
    const decide = decider(
      allow('rules', [
        { from: [{ source: { namespaces: ['frontend'] } }], to: [{ operation: { ports: ['8080'] } }] },
        { from: [{ source: { namespaces: ['ops'] } }] },
      ]),
    );
    expect(allowed(decide(conn()))).toBe(true);
    expect(allowed(decide(conn({ destinationPort: 9000 })))).toBe(false);
    expect(allowed(decide(conn({ sourcePrincipal: ADMIN, destinationPort: 9000 })))).toBe(true);
  });
});

describe('DENY, ALLOW and AUDIT together', () => {
  it('DENY wins over a matching ALLOW and is named', () => {
    const decide = decider(allow('allow-all', [{}]), deny('no-ops', [from({ namespaces: ['ops'] })]));
    expect(decide(conn({ sourcePrincipal: ADMIN }))).toMatchObject({ allowed: false, action: 'DENY', policy: 'prod/no-ops', reason: 'denied by DENY policy prod/no-ops' });
    expect(decide(conn())).toMatchObject({ allowed: true, action: 'ALLOW', policy: 'prod/allow-all' });
  });

  it('one matching ALLOW policy among several suffices; none matching denies and lists them', () => {
    const decide = decider(allow('a-frontend', [from({ namespaces: ['frontend'] })]), allow('b-ops', [from({ namespaces: ['ops'] })]));
    expect(decide(conn({ sourcePrincipal: ADMIN }))).toMatchObject({ allowed: true, policy: 'prod/b-ops' });
    const d = decide(conn({ sourcePrincipal: 'cluster.local/ns/x/sa/y' }));
    expect(d).toMatchObject({ allowed: false, action: 'ALLOW', policy: undefined });
    expect(d.reason).toBe('denied: no ALLOW policy matched (applicable: prod/a-frontend, prod/b-ops)');
  });

  it('an ALLOW policy of another namespace or workload does not turn on the allow list', () => {
    expect(decider(allow('db-only', [{}], { selector: { matchLabels: { app: 'db' } } }), allow('x', undefined, {}, 'other'))(conn())).toMatchObject({
      allowed: true,
      action: 'NONE',
    });
  });

  it('a mesh-wide DENY applies to every workload', () => {
    expect(decider(deny('no-plaintext', [from({ notPrincipals: ['*'] })], {}, 'istio-system'))(plaintext())).toMatchObject({
      allowed: false,
      policy: 'istio-system/no-plaintext',
    });
  });

  it('AUDIT policies are reported when they match and never change the decision', () => {
    const decide = decider(authorizationPolicy('audit-ops', 'prod', { action: 'AUDIT', rules: [from({ namespaces: ['ops'] })] }), allow('allow-all', [{}]));
    expect(decide(conn({ sourcePrincipal: ADMIN }))).toMatchObject({ allowed: true, audit: ['prod/audit-ops'] });
    expect(decide(conn())).toMatchObject({ allowed: true, audit: [] });
  });
});

describe('dry-run (istio.io/dry-run)', () => {
  const dry = { 'istio.io/dry-run': 'true' };

  it('a dry-run DENY is evaluated and reported, not enforced', () => {
    const decide = decider(authorizationPolicy('would-deny', 'prod', { action: 'DENY', rules: [from({ namespaces: ['frontend'] })] }, dry));
    expect(decide(conn())).toMatchObject({
      allowed: true,
      action: 'NONE',
      dryRun: [{ policy: 'prod/would-deny', action: 'DENY', matched: true }],
      dryRunAllowed: false,
    });
    expect(decide(conn({ sourcePrincipal: ADMIN }))).toMatchObject({ allowed: true, dryRun: [{ matched: false }], dryRunAllowed: true });
  });

  it('a dry-run ALLOW does not turn on the allow list, but reports what it would do', () => {
    const decide = decider(authorizationPolicy('would-allow-ops', 'prod', { rules: [from({ namespaces: ['ops'] })] }, dry));
    expect(decide(conn())).toMatchObject({ allowed: true, dryRun: [{ action: 'ALLOW', matched: false }], dryRunAllowed: false });
    expect(decide(conn({ sourcePrincipal: ADMIN })).dryRunAllowed).toBe(true);
  });
});

describe('L7 fields on an agent-enforced policy fail closed (control-plane translation)', () => {
  it('an ALLOW with methods becomes a DENY of its L4 part', () => {
    const decide = decider(allow('get-only', [{ to: [{ operation: { ports: ['8080'], methods: ['GET'] } }] }]));
    expect(decide(conn())).toMatchObject({ allowed: false, action: 'DENY', policy: 'prod/get-only' });
  });

  it('a DENY with an L7 condition denies everything its L4 part matches', () => {
    const decide = decider(deny('no-admin-header', [{ from: [{ source: { namespaces: ['frontend'] } }], when: [{ key: 'request.headers[x-admin]', values: ['1'] }] }]));
    expect(allowed(decide(conn()))).toBe(false);
    expect(allowed(decide(conn({ sourcePrincipal: ADMIN })))).toBe(true);
  });

  it('a source left with no L4 field matches every peer, so the fail-closed DENY denies all', () => {
    const decide = decider(allow('jwt-only', [from({ requestPrincipals: ['issuer/subject'] })]));
    expect(decide(plaintext())).toMatchObject({ allowed: false, action: 'DENY', policy: 'prod/jwt-only' });
  });
});

describe('fields the translator does not carry fail closed', () => {
  it('serviceAccounts (dropped by the translator) in an ALLOW allow nobody rather than everybody', () => {
    const decide = decider(allow('by-sa', [from({ serviceAccounts: ['frontend/shop'] })]));
    expect(allowed(decide(conn()))).toBe(false);
    expect(allowed(decide(plaintext()))).toBe(false);
  });

  it('serviceAccounts in a DENY deny everybody rather than nobody', () => {
    expect(allowed(decider(deny('by-sa', [from({ notServiceAccounts: ['frontend/shop'] })]))(conn()))).toBe(false);
  });
});

describe('resources the translator does not emit (backstops)', () => {
  const policy = (action: Authorization__Output['action'], rules: Rule__Output[]): Authorization__Output => ({
    name: 'hand',
    namespace: 'prod',
    scope: 'NAMESPACE',
    action,
    selector: {},
    targetRefs: [],
    l4Rules: rules,
    l7Rules: [],
    hasL7: false,
    dryRun: false,
    warnings: [],
    emptyRules: rules.length === 0,
  });
  const source = (s: Partial<Rule__Output['from'][number]>): Rule__Output['from'][number] => ({
    principals: [], notPrincipals: [], namespaces: [], notNamespaces: [], ipBlocks: [], notIpBlocks: [],
    remoteIpBlocks: [], notRemoteIpBlocks: [], requestPrincipals: [], notRequestPrincipals: [], ...s,
  });

  it('L7 content in l4_rules: an ALLOW rule never matches, a DENY rule ignores it', () => {
    const l7Rule: Rule__Output = { from: [source({ requestPrincipals: [{ exact: 'iss/sub', match: 'exact' }] })], to: [], when: [] };
    expect(authorize(conn(), [policy('ALLOW', [l7Rule])]).allowed).toBe(false);
    expect(authorize(conn(), [policy('DENY', [l7Rule])]).allowed).toBe(false);
    const l7When: Rule__Output = { from: [], to: [], when: [{ key: 'request.method', values: [{ exact: 'GET', match: 'exact' }], notValues: [] }] };
    expect(authorize(conn(), [policy('ALLOW', [l7When])]).allowed).toBe(false);
  });

  it('an entry with no L4 value matches nothing in an ALLOW and everything in a DENY', () => {
    const emptySource: Rule__Output = { from: [source({})], to: [], when: [] };
    const emptyOperation: Rule__Output = { from: [], to: [{ ports: [], notPorts: [], hosts: [], notHosts: [], methods: [], notMethods: [], paths: [], notPaths: [] }], when: [] };
    const emptyCondition: Rule__Output = { from: [], to: [], when: [{ key: 'source.ip', values: [], notValues: [] }] };
    for (const rule of [emptySource, emptyOperation, emptyCondition]) {
      expect(authorize(conn(), [policy('ALLOW', [rule])]).allowed).toBe(false);
      expect(authorize(conn(), [policy('DENY', [rule])]).allowed).toBe(false);
      expect(authorize(conn(), [policy('DENY', [rule]), policy('ALLOW', [{ from: [], to: [], when: [] }])]).action).toBe('DENY');
    }
  });

  it('remote_ip_blocks are checked against the peer address', () => {
    const p = policy('ALLOW', [{ from: [source({ remoteIpBlocks: [{ cidr: '10.1.0.0/16' }] })], to: [], when: [] }]);
    expect(authorize(conn(), [p]).allowed).toBe(true);
    expect(authorize(conn({ sourceIp: '10.9.0.1' }), [p]).allowed).toBe(false);
  });

  it('an unparsable block matches nothing', () => {
    const p = policy('ALLOW', [{ from: [source({ ipBlocks: [{ cidr: 'not-an-ip' }] })], to: [], when: [] }]);
    expect(authorize(conn(), [p]).allowed).toBe(false);
  });
});
