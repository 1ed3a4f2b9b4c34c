// The chart grants the control plane exactly what the code uses: CONTROL_PLANE_RBAC in
// control-plane/kube/rbac.ts, the list the integration tests check every request of the control
// plane against. A permission added to (or dropped from) that list fails this test until the
// chart's ClusterRole/Role follow, and a grant added to the chart alone fails it too. Each rule
// says why; a name-restricted rule is only where the code uses a fixed name, and never on a verb
// Kubernetes cannot restrict by name.
import { LEASE_NAME } from '../../control-plane/kube/kube-cluster';
import { CONTROL_PLANE_RBAC } from '../../control-plane/kube/rbac';
import type { Manifest } from '../../cli/install/render-chart';
import { ciValues, find, render } from './chart-support';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Verbs a resourceNames restriction cannot apply to (the authorizer has no name for them). */
const UNNAMEABLE_VERBS = ['create', 'list', 'watch', 'deletecollection'];
/**
 * Resources the code reaches under one fixed name although its rule in rbac.ts names none: the
 * chart limits the verbs a name can limit to that name (narrower than the list, never wider).
 * Once rbac.ts carries the name itself, the entry here is redundant and harmless.
 */
const FIXED_NAMES: Readonly<Record<string, string>> = { 'coordination.k8s.io/leases': LEASE_NAME };

const resourceId = (group: string, resource: string): string => (group === '' ? resource : `${group}/${resource}`);
/** The unit of a grant: "cluster apps/deployments get", "namespace secrets get name=ambit-ca-root". */
const grant = (scope: string, group: string, resource: string, verb: string, name?: string): string =>
  `${scope} ${resourceId(group, resource)} ${verb}${name === undefined ? '' : ` name=${name}`}`;

function codeGrants(): string[] {
  const out = CONTROL_PLANE_RBAC.flatMap((r) =>
    r.resources.flatMap((res) =>
      r.verbs.flatMap((v) => {
        const fixed = FIXED_NAMES[resourceId(r.apiGroup, res)];
        const names = r.resourceNames ?? (fixed !== undefined && !UNNAMEABLE_VERBS.includes(v) ? [fixed] : [undefined]);
        return names.map((n) => grant(r.scope, r.apiGroup, res, v, n));
      }),
    ),
  );
  return [...new Set(out)].sort();
}

const ruleGrants = (scope: string, rules: readonly Rule[]): string[] =>
  rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.flatMap((v) => (r.resourceNames ?? [undefined]).map((n) => grant(scope, g, res, v, n))))));

function controlPlaneRoles(ms: readonly Manifest[], release: string): { cluster: Manifest; namespaced: Manifest } {
  return { cluster: find(ms, 'ClusterRole', `${release}-control-plane`), namespaced: find(ms, 'Role', `${release}-control-plane`) };
}

describe.each([
  ['default values', undefined, 'ambit', 'ambit-system'],
  ['ci/full-values.yaml', ciValues('full-values.yaml'), 'mesh', 'mesh-system'],
  ['ci/minimal-values.yaml', ciValues('minimal-values.yaml'), 'ambit', 'ambit-system'],
])('the control plane RBAC with %s', (_name, valuesFile, release, namespace) => {
  const ms = render(valuesFile, release, namespace);
  const { cluster, namespaced } = controlPlaneRoles(ms, release);
  const clusterRules = (cluster.object as any).rules as Rule[];
  const roleRules = (namespaced.object as any).rules as Rule[];

  test('grants exactly CONTROL_PLANE_RBAC (control-plane/kube/rbac.ts): nothing more, nothing less, at the same scope', () => {
    const chart = [...new Set([...ruleGrants('cluster', clusterRules), ...ruleGrants('namespace', roleRules)])].sort();
    const code = codeGrants();
    expect({ missingFromChart: code.filter((g) => !chart.includes(g)), notUsedByTheCode: chart.filter((g) => !code.includes(g)) }).toEqual({
      missingFromChart: [],
      notUsedByTheCode: [],
    });
  });

  test('no wildcards, no non-resource URLs', () => {
    for (const r of [...clusterRules, ...roleRules]) {
      expect(r.nonResourceURLs).toBeUndefined();
      expect([...r.apiGroups, ...r.resources, ...r.verbs, ...(r.resourceNames ?? [])]).not.toContain('*');
    }
  });

  test('a name-restricted rule never holds a verb a name cannot restrict (it would grant nothing)', () => {
    for (const r of [...clusterRules, ...roleRules, ...CONTROL_PLANE_RBAC]) {
      if (r.resourceNames === undefined) continue;
      expect({ resources: r.resources, verbs: r.verbs.filter((v) => UNNAMEABLE_VERBS.includes(v)) }).toEqual({ resources: r.resources, verbs: [] });
    }
  });

  test('the Lease, whose name is fixed in the code, is read and renewed by that name only', () => {
    expect(roleRules.filter((r) => r.resources.includes('leases'))).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [LEASE_NAME], verbs: ['get', 'update'] },
    ]);
  });

  test('every rule says why, in a comment right above it', () => {
    for (const m of [cluster, namespaced]) {
      const lines = m.text.split('\n');
      const starts = lines.map((l, i) => (l.trim().startsWith('- apiGroups:') ? i : -1)).filter((i) => i >= 0);
      expect(starts).toHaveLength(((m.object as any).rules as Rule[]).length);
      for (const i of starts) expect(`${m.object.kind} line ${i + 1}: ${lines[i - 1].trim()}`).toMatch(/^\S+ line \d+: # \S/);
    }
  });

  test("binds both roles to the control plane's ServiceAccount, the one its pods run as", () => {
    const sa = (find(ms, 'Deployment', `${release}-control-plane`).object as any).spec.template.spec.serviceAccountName;
    const subject = [{ kind: 'ServiceAccount', name: sa, namespace }];
    const crb = find(ms, 'ClusterRoleBinding', `${release}-control-plane`).object as any;
    const rb = find(ms, 'RoleBinding', `${release}-control-plane`).object as any;
    expect(crb).toMatchObject({ roleRef: { kind: 'ClusterRole', name: cluster.object.metadata.name }, subjects: subject });
    expect(rb).toMatchObject({ metadata: { namespace }, roleRef: { kind: 'Role', name: namespaced.object.metadata.name }, subjects: subject });
    expect(namespaced.object.metadata.namespace).toBe(namespace);
  });
});

test('the comparison notices a drift either way (the test is not vacuous)', () => {
  const rules = structuredClone((controlPlaneRoles(render(), 'ambit').cluster.object as any).rules) as Rule[];
  const code = codeGrants();
  const extra = ruleGrants('cluster', [...rules, { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }]).filter((g) => !code.includes(g));
  expect(extra).toEqual(['cluster nodes/proxy get']);
  const fewer = ruleGrants('cluster', rules.slice(1));
  expect(code.filter((g) => g.startsWith('cluster ') && !fewer.includes(g)).length).toBeGreaterThan(0);
  // A name matters: the same verb on any object is another grant.
  expect(grant('namespace', '', 'secrets', 'get')).not.toBe(grant('namespace', '', 'secrets', 'get', 'ambit-ca-root'));
});
