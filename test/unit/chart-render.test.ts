// charts/ambit rendered with its default values and with the ci/ values files: every object is
// valid for the Kubernetes API (1.33 OpenAPI schemas, no unknown fields), the agent DaemonSet has
// the privileges, mounts and settings the agent needs and says why for each, and every AMBIT_*
// variable the chart sets is a setting the program declares.
import { AGENT_DECLARATIONS } from '../../agent/config';
import { CONFIG_DECLARATIONS } from '../../control-plane/config';
import { ciValues, find, problems, render } from './chart-support';

const envNames = (decls: Record<string, { env: string }>): Set<string> => new Set(Object.values(decls).map((d) => d.env));
const containerEnv = (pod: any, container: string): Record<string, any> =>
  Object.fromEntries(pod.spec.template.spec.containers.find((c: any) => c.name === container).env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

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

  test('installs the CNI plugin from an init container, and not when cni.enabled is false', () => {
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['install-cni']);
    expect(spec.initContainers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] });
    const minimal = render(ciValues('minimal-values.yaml'));
    expect((find(minimal, 'DaemonSet').object as any).spec.template.spec.initContainers).toBeUndefined();
    expect(minimal.some((m) => m.object.kind === 'ConfigMap' && m.object.metadata.name.endsWith('cni-installer'))).toBe(false);
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

  test('the ServiceMonitor scrapes the control plane and the agents', () => {
    const sm = find(full, 'ServiceMonitor').object as any;
    expect(sm.metadata.labels.release).toBe('prometheus');
    expect(sm.spec.endpoints.map((e: any) => e.port)).toEqual(['http-monitoring', 'http-metrics']);
    expect(find(full, 'Service', 'mesh-agent-metrics').object.spec).toMatchObject({ clusterIP: 'None' });
  });

  test('control plane config files land in its ConfigMap', () => {
    const cm = find(full, 'ConfigMap', 'mesh-control-plane-config').object as any;
    expect(cm.data['namespace.yaml']).toContain('istio.io/dataplane-mode: ambient');
  });
});
