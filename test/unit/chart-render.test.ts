// charts/ambit rendered with its default values and with the ci/ values files: every object is
// valid for the Kubernetes API (1.33 OpenAPI schemas, no unknown fields), the agent DaemonSet has
// the privileges, mounts and settings the agent needs and says why for each, every AMBIT_*
// variable the chart sets is a setting the program declares, the control plane runs the
// Kubernetes source with what it needs, and its unauthenticated status server stays on loopback
// unless asked. (The RBAC rules: chart-rbac.test.ts.)
import { AGENT_DECLARATIONS } from '../../agent/config';
import { CNI_INSTALL_DECLARATIONS, loadCniInstallSettings } from '../../cli/cni-installer/settings';
import { mergeValues } from '../../cli/install/values';
import { loadChart } from '../../cli/install/chart';
import { renderChart, type Manifest } from '../../cli/install/render-chart';
import { CONFIG_DECLARATIONS, loadControlPlaneConfig } from '../../control-plane/config';
import { CHART_DIR, ciValues, find, problems, render } from './chart-support';

const envNames = (decls: Record<string, { env: string }>): Set<string> => new Set(Object.values(decls).map((d) => d.env));
const containerOf = (pod: any, container: string): any => pod.spec.template.spec.containers.find((c: any) => c.name === container);
const containerEnv = (pod: any, container: string): Record<string, any> =>
  Object.fromEntries(containerOf(pod, container).env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
/** The env as the kubelet would give it to a pod `name` in `namespace` (downward API resolved). */
const resolvedEnv = (pod: any, container: string, namespace: string, name: string): Record<string, string> =>
  Object.fromEntries(
    containerOf(pod, container).env.map((e: any) => {
      if (e.value !== undefined) return [e.name, e.value];
      const field = e.valueFrom?.fieldRef?.fieldPath;
      const value = field === 'metadata.namespace' ? namespace : field === 'metadata.name' ? name : field === 'spec.nodeName' ? 'node-1' : undefined;
      if (value === undefined) throw new Error(`${e.name}: unexpected valueFrom ${JSON.stringify(e.valueFrom)}`);
      return [e.name, value];
    }),
  );
const chart = loadChart(CHART_DIR);
const renderWith = (override: Record<string, unknown>, release = 'ambit', namespace = 'ambit-system'): Manifest[] =>
  renderChart(chart, { values: mergeValues(chart.values, override), releaseName: release, namespace });

describe.each([
  ['default values', undefined],
  ['ci/full-values.yaml', ciValues('full-values.yaml')],
  ['ci/minimal-values.yaml', ciValues('minimal-values.yaml')],
])('the chart with %s', (_name, valuesFile) => {
  const manifests = render(valuesFile);

  test('every rendered object is valid for the Kubernetes API', () => {
    expect(manifests.length).toBeGreaterThan(10);
    expect(manifests.flatMap(problems)).toEqual([]);
  });

  test('the agent gets only AMBIT_* settings it declares, and every required one', () => {
    const env = containerEnv(find(manifests, 'DaemonSet').object, 'agent');
    const declared = envNames(AGENT_DECLARATIONS);
    expect(Object.keys(env).filter((k) => !declared.has(k))).toEqual([]);
    for (const d of Object.values(AGENT_DECLARATIONS)) if (d.default === undefined) expect(env).toHaveProperty(d.env);
  });

  test('the control plane gets only AMBIT_* settings it declares, and every required one', () => {
    const env = containerEnv(find(manifests, 'Deployment').object, 'control-plane');
    const declared = envNames(CONFIG_DECLARATIONS);
    expect(Object.keys(env).filter((k) => !declared.has(k))).toEqual([]);
    for (const d of Object.values(CONFIG_DECLARATIONS)) if (d.default === undefined) expect(env).toHaveProperty(d.env);
  });

  test('the CNI installer gets only AMBIT_* settings it declares, and they load', () => {
    const ds = find(manifests, 'DaemonSet').object as any;
    const installer = containerOf(ds, 'install-cni');
    if (installer === undefined) return; // cni.enabled false (minimal values)
    const env = containerEnv(ds, 'install-cni');
    const declared = envNames(CNI_INSTALL_DECLARATIONS);
    expect(Object.keys(env).filter((k) => !declared.has(k))).toEqual([]);
    expect(() => loadCniInstallSettings({}, env)).not.toThrow();
  });

  test('the control plane settings load as the control plane loads them', () => {
    const dep = find(manifests, 'Deployment').object as any;
    const config = loadControlPlaneConfig({}, resolvedEnv(dep, 'control-plane', dep.metadata.namespace, `${dep.metadata.name}-7d9f-x2`));
    expect(config.source).toBe('kube');
  });

  test('every agent setting parses as the agent would parse it', () => {
    const env = containerEnv(find(manifests, 'DaemonSet').object, 'agent');
    for (const d of Object.values(AGENT_DECLARATIONS)) {
      const v = env[d.env];
      if (typeof v === 'string') expect(() => d.parse(v, d.env)).not.toThrow();
    }
  });
});

test('the validation catches what a cluster would refuse: unknown fields, wrong types, missing fields', () => {
  const ds = structuredClone(find(render(), 'DaemonSet'));
  const agent = (ds.object as any).spec.template.spec.containers[0];
  agent.readinesProbe = agent.readinessProbe;
  agent.ports[0].containerPort = '15020';
  delete (ds.object as any).spec.selector;
  const found = problems(ds).join('\n');
  expect(found).toContain('.spec.template.spec.containers[0].readinesProbe: unknown field');
  expect(found).toContain('/spec/template/spec/containers/0/ports/0/containerPort: must be integer');
  expect(found).toContain('/spec: must have required property selector');
});

describe('the agent DaemonSet', () => {
  const manifests = render();
  const ds = find(manifests, 'DaemonSet');
  const spec = (ds.object as any).spec.template.spec;
  const agent = spec.containers.find((c: any) => c.name === 'agent');
  const lines = ds.text.split('\n');
  /** The comment block right above the line holding `needle` (from `from` on). */
  const commentAbove = (needle: string, from = 0): string => {
    const i = lines.findIndex((l, k) => k >= from && l.trim() === needle);
    expect(i).toBeGreaterThan(-1);
    const out: string[] = [];
    for (let k = i - 1; k >= 0 && lines[k].trim().startsWith('#'); k--) out.unshift(lines[k].trim());
    return out.join(' ');
  };

  test('drops every capability and adds back only SYS_ADMIN and NET_ADMIN, each with why', () => {
    expect(agent.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(agent.securityContext.capabilities.add.sort()).toEqual(['NET_ADMIN', 'SYS_ADMIN']);
    expect(agent.securityContext.privileged).toBe(false);
    const addAt = lines.findIndex((l) => l.trim() === 'add:');
    for (const cap of agent.securityContext.capabilities.add) expect(commentAbove(`- ${cap}`, addAt)).toMatch(/^# Required for /);
  });

  test('mounts bpffs, the cgroup root, /var/run/netns and the CNI dirs from the host, each with why', () => {
    const hostPaths = Object.fromEntries(spec.volumes.filter((v: any) => v.hostPath).map((v: any) => [v.name, v.hostPath.path]));
    expect(hostPaths).toMatchObject({ bpffs: '/sys/fs/bpf', cgroup: '/sys/fs/cgroup', netns: '/var/run/netns', 'cni-bin': '/opt/cni/bin', 'cni-conf': '/etc/cni/net.d' });
    const mounts = Object.fromEntries(agent.volumeMounts.map((m: any) => [m.name, m]));
    expect(mounts.bpffs.mountPath).toBe('/sys/fs/bpf');
    expect(mounts.cgroup).toMatchObject({ mountPath: '/sys/fs/cgroup', readOnly: true });
    expect(mounts.netns).toMatchObject({ mountPath: '/var/run/netns', mountPropagation: 'HostToContainer' });
    // Every host path is explained where it is mounted into the agent or, for the installer's, where it is declared.
    for (const name of ['bpffs', 'cgroup', 'netns', 'enrollment', 'state']) expect(commentAbove(`- name: ${name}`)).toMatch(/^# Required for /);
    const volumesAt = lines.findIndex((l) => l.trim() === 'volumes:');
    for (const name of ['cni-bin', 'cni-conf']) expect(commentAbove(`- name: ${name}`, volumesAt)).toMatch(/^# Required for /);
  });

  test('runs system-node-critical, passes its grace period to the process, and is ready on 15021', () => {
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    expect(containerEnv(ds.object, 'agent').AMBIT_DRAIN_TIMEOUT_MS).toBe('25000');
    expect(agent.readinessProbe.httpGet).toEqual({ path: '/healthz/ready', port: 15021 });
    expect(agent.ports.map((p: any) => p.containerPort).sort()).toEqual([15020, 15021]);
  });

  test('a non-default grace period reaches the agent as its drain deadline', () => {
    const full = find(render(ciValues('full-values.yaml')), 'DaemonSet');
    expect((full.object as any).spec.template.spec.terminationGracePeriodSeconds).toBe(65);
    expect(containerEnv(full.object, 'agent').AMBIT_DRAIN_TIMEOUT_MS).toBe('60000');
  });

  test('keeps the CNI plugin chained from a long-lived container (ambit cni-install), and not when cni.enabled is false', () => {
    expect(spec.initContainers).toBeUndefined();
    expect(spec.containers.map((c: any) => c.name)).toEqual(['agent', 'install-cni']);
    const installer = containerOf(ds.object, 'install-cni');
    expect(installer.command).toEqual(['ambit', 'cni-install']);
    expect(installer.securityContext).toMatchObject({ capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true });
    expect(installer.securityContext.capabilities.add).toBeUndefined();
    const minimal = render(ciValues('minimal-values.yaml'));
    const minimalSpec = (find(minimal, 'DaemonSet').object as any).spec.template.spec;
    expect(minimalSpec.containers.map((c: any) => c.name)).toEqual(['agent']);
    expect(minimalSpec.volumes.map((v: any) => v.name)).not.toEqual(expect.arrayContaining(['cni-bin']));
    expect(minimal.some((m) => m.source.endsWith('cni-installer.yaml'))).toBe(false);
    // No inline program in a ConfigMap any more: the installer is `ambit cni-install`.
    expect(render().some((m) => m.object.kind === 'ConfigMap')).toBe(false);
  });

  test('the installer writes the entry the agent serves: same socket, same record dir, kube-system and the release namespace excluded', () => {
    const env = containerEnv(ds.object, 'install-cni');
    const agentEnv = containerEnv(ds.object, 'agent');
    expect(env.AMBIT_ENROLLMENT_SOCKET).toBe(agentEnv.AMBIT_ENROLLMENT_SOCKET);
    expect(env.AMBIT_CNI_RECORD_DIR).toBe(agentEnv.AMBIT_CNI_RECORD_DIR);
    expect(env.AMBIT_CNI_EXCLUDE_NAMESPACES).toBe('kube-system,ambit-system');
    // The host paths are the agent's own mounts of the same host directories.
    const enrollment = spec.volumes.find((v: any) => v.name === 'enrollment').hostPath.path;
    expect(env.AMBIT_ENROLLMENT_SOCKET.startsWith(`${enrollment}/`)).toBe(true);
    const mounts = Object.fromEntries(containerOf(ds.object, 'install-cni').volumeMounts.map((m: any) => [m.name, m.mountPath]));
    expect(mounts).toMatchObject({ 'cni-bin': env.AMBIT_CNI_BIN_DIR, 'cni-conf': env.AMBIT_CNI_CONF_DIR });
  });

  test('only the installer gets an API token, and only to read its own DaemonSet (uninstall detection)', () => {
    expect(spec.automountServiceAccountToken).toBe(false);
    const env = containerEnv(ds.object, 'install-cni');
    expect(env.AMBIT_CNI_REMOVE_ON_STOP).toBe('auto');
    expect(env.AMBIT_CNI_DAEMONSET).toBe(`${ds.object.metadata.namespace}/${ds.object.metadata.name}`);
    const tokenMounts = (c: any) => (c.volumeMounts ?? []).filter((m: any) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
    expect(tokenMounts(agent)).toEqual([]);
    expect(tokenMounts(containerOf(ds.object, 'install-cni'))).toEqual([{ name: 'cni-installer-api', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }]);
    const api = spec.volumes.find((v: any) => v.name === 'cni-installer-api').projected.sources;
    expect(api[0].serviceAccountToken).toEqual({ path: 'token', expirationSeconds: 3607 }); // the API server's own audience
    const role = find(manifests, 'Role', 'ambit-agent-cni-installer').object as any;
    expect(role.rules).toEqual([{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['ambit-agent'], verbs: ['get'] }]);
    const binding = find(manifests, 'RoleBinding', 'ambit-agent-cni-installer').object as any;
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'ambit-agent-cni-installer' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: spec.serviceAccountName, namespace: 'ambit-system' }]);
  });
});

describe('the control plane Deployment', () => {
  const manifests = render();
  const dep = find(manifests, 'Deployment', 'ambit-control-plane').object as any;
  const pod = dep.spec.template.spec;
  const env = containerEnv(dep, 'control-plane');
  const ds = find(manifests, 'DaemonSet', 'ambit-agent').object as any;

  test('runs the Kubernetes source with its own ServiceAccount token (in-cluster config), not a YAML directory', () => {
    expect(env.AMBIT_SOURCE).toBe('kube');
    expect(env.AMBIT_CONFIG_DIR).toBeUndefined();
    expect(env.AMBIT_KUBECONFIG).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe('ambit-control-plane');
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['state']);
  });

  test('knows its namespace and pod name from the downward API (the Lease and its holder)', () => {
    expect(env.AMBIT_NAMESPACE).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(env.AMBIT_POD_NAME).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
  });

  test("accepts exactly this release's agents: their ServiceAccount, and the audience their projected tokens carry", () => {
    expect(env.AMBIT_AGENT_SERVICE_ACCOUNT).toBe(`ambit-system/${ds.spec.template.spec.serviceAccountName}`);
    const nodeToken = ds.spec.template.spec.volumes.find((v: any) => v.name === 'node-token').projected.sources[0].serviceAccountToken;
    expect(env.AMBIT_TOKEN_AUDIENCE).toBe(nodeToken.audience);
    const full = render(ciValues('full-values.yaml'), 'mesh', 'mesh-system');
    const fullEnv = containerEnv(find(full, 'Deployment', 'mesh-control-plane').object, 'control-plane');
    const fullDs = find(full, 'DaemonSet', 'mesh-agent').object as any;
    expect(fullEnv.AMBIT_AGENT_SERVICE_ACCOUNT).toBe('mesh-system/mesh-agent');
    expect(fullEnv.AMBIT_TOKEN_AUDIENCE).toBe('ambit-east');
    expect(fullDs.spec.template.spec.volumes.find((v: any) => v.name === 'node-token').projected.sources[0].serviceAccountToken.audience).toBe('ambit-east');
  });

  test('runs waypoints with the chart image, pointed at this control plane', () => {
    expect(env.AMBIT_WAYPOINT_IMAGE).toBe(containerOf(dep, 'control-plane').image);
    expect(env.AMBIT_WAYPOINT_CONTROL_PLANE).toBe(containerEnv(ds, 'agent').AMBIT_CONTROL_PLANE);
    expect(env.AMBIT_WAYPOINT_CONTROL_PLANE).toBe('ambit-control-plane.ambit-system.svc:15012');
    const full = render(ciValues('full-values.yaml'), 'mesh', 'mesh-system');
    const fullEnv = containerEnv(find(full, 'Deployment', 'mesh-control-plane').object, 'control-plane');
    expect(fullEnv.AMBIT_WAYPOINT_IMAGE).toBe('registry.example.com/mesh/ambit:0.1.0-rc1');
    expect(fullEnv.AMBIT_WAYPOINT_CONTROL_PLANE).toBe('mesh-control-plane.mesh-system.svc:15012');
  });
});

describe('the control plane status server (dashboard, /debug, /metrics): unauthenticated, so loopback by default', () => {
  const portsOf = (ms: Manifest[]) => (find(ms, 'Service', 'ambit-control-plane').object as any).spec.ports.map((p: any) => p.port);
  const cpOf = (ms: Manifest[]) => containerOf(find(ms, 'Deployment', 'ambit-control-plane').object, 'control-plane');
  const monitorPorts = (ms: Manifest[]) => (find(ms, 'ServiceMonitor').object as any).spec.endpoints.map((e: any) => e.port);
  /** Named ports of the Services a ServiceMonitor of this release selects. */
  const servicePortNames = (ms: Manifest[]) => ms.filter((m) => m.object.kind === 'Service').flatMap((m) => (m.object as any).spec.ports.map((p: any) => p.name));

  test('by default: 127.0.0.1:15014, not on the Service, readiness from the gRPC port, not scraped', () => {
    const ms = renderWith({ serviceMonitor: { enabled: true } });
    const cp = cpOf(ms);
    expect(containerEnv(find(ms, 'Deployment').object, 'control-plane').AMBIT_HTTP_LISTEN).toBe('127.0.0.1:15014');
    expect(portsOf(ms)).toEqual([15012]);
    expect(cp.ports.map((p: any) => p.containerPort)).toEqual([15012]);
    expect(cp.readinessProbe.tcpSocket).toEqual({ port: 'grpc' });
    expect(cp.readinessProbe.httpGet).toBeUndefined();
    expect(monitorPorts(ms)).toEqual(['http-metrics']);
    for (const p of monitorPorts(ms)) expect(servicePortNames(ms)).toContain(p);
  });

  test('controlPlane.exposeStatus: all interfaces, on the Service, probed over HTTP, scraped', () => {
    const ms = renderWith({ controlPlane: { exposeStatus: true }, serviceMonitor: { enabled: true } });
    const cp = cpOf(ms);
    expect(containerEnv(find(ms, 'Deployment').object, 'control-plane').AMBIT_HTTP_LISTEN).toBe(':15014');
    expect(portsOf(ms)).toEqual([15012, 15014]);
    expect(cp.readinessProbe.httpGet).toEqual({ path: '/healthz/ready', port: 'http-monitoring' });
    expect(monitorPorts(ms)).toEqual(['http-monitoring', 'http-metrics']);
    for (const p of monitorPorts(ms)) expect(servicePortNames(ms)).toContain(p);
    expect(ms.flatMap(problems)).toEqual([]);
  });
});

describe('values reach the objects', () => {
  const full = render(ciValues('full-values.yaml'), 'mesh', 'mesh-system');

  test('names follow the release, and agents dial the control plane Service in the release namespace', () => {
    const svc = find(full, 'Service', 'mesh-control-plane');
    expect(svc.object.metadata.namespace).toBe('mesh-system');
    expect(containerEnv(find(full, 'DaemonSet', 'mesh-agent').object, 'agent').AMBIT_CONTROL_PLANE).toBe('mesh-control-plane.mesh-system.svc:15012');
  });

  test('waypoints become Gateways of class ambit-waypoint with an HBONE listener', () => {
    const gws = full.filter((m) => m.object.kind === 'Gateway').map((m) => m.object as any);
    expect(gws.map((g) => `${g.metadata.namespace}/${g.metadata.name} ${g.metadata.labels['istio.io/waypoint-for']}`)).toEqual([
      'bookinfo/waypoint service',
      'bookinfo/reviews-waypoint workload',
    ]);
    for (const g of gws) expect(g.spec).toEqual({ gatewayClassName: 'ambit-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] });
  });

  test('the ServiceMonitor scrapes the control plane (its status port exposed here) and the agents', () => {
    const sm = find(full, 'ServiceMonitor').object as any;
    expect(sm.metadata.labels.release).toBe('prometheus');
    expect(sm.spec.endpoints.map((e: any) => e.port)).toEqual(['http-monitoring', 'http-metrics']);
    expect(find(full, 'Service', 'mesh-agent-metrics').object.spec).toMatchObject({ clusterIP: 'None' });
  });

  test('the installer excludes the release namespace and watches for the release DaemonSet', () => {
    const env = containerEnv(find(full, 'DaemonSet', 'mesh-agent').object, 'install-cni');
    expect(env.AMBIT_CNI_EXCLUDE_NAMESPACES).toBe('kube-system,mesh-system');
    expect(env.AMBIT_CNI_DAEMONSET).toBe('mesh-system/mesh-agent');
    expect((find(full, 'Role', 'mesh-agent-cni-installer').object as any).rules[0].resourceNames).toEqual(['mesh-agent']);
    const hostPaths = Object.fromEntries((find(full, 'DaemonSet').object as any).spec.template.spec.volumes.filter((v: any) => v.hostPath).map((v: any) => [v.name, v.hostPath.path]));
    expect(hostPaths['cni-bin']).toBe('/home/kubernetes/bin');
  });
});
