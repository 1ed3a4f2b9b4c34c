/**
 * Kubernetes core/v1 rules the API server enforces in code rather than in its OpenAPI schema
 * (pkg/apis/core/validation): unique container and port names, one probe handler, env value vs
 * valueFrom, Service port naming and type-specific fields; and discovery/v1 EndpointSlice addresses
 * (pkg/apis/discovery/validation).
 */
import net from 'node:net';
import { IssueList, isObj, isSet, listAt, objAt, strAt, type Obj } from './check-helpers';
import { childPointer } from './field-path';

const PROBE_HANDLERS = ['httpGet', 'tcpSocket', 'exec', 'grpc'] as const;
const ENV_SOURCES = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const;

function checkProbe(issues: IssueList, path: string, probe: Obj, which: string): void {
  const handlers = PROBE_HANDLERS.filter((h) => isSet(probe, h));
  if (handlers.length !== 1) {
    issues.add(path, `a probe needs exactly one of ${PROBE_HANDLERS.join(', ')}; got ${handlers.length === 0 ? 'none' : handlers.join(', ')}`);
  }
  if (which !== 'readinessProbe' && typeof probe.successThreshold === 'number' && probe.successThreshold !== 1) {
    issues.add(childPointer(path, 'successThreshold'), `must be 1 for a ${which}; got ${probe.successThreshold}`);
  }
}

function checkContainer(issues: IssueList, path: string, c: Obj): void {
  const ports = listAt(c, 'ports');
  issues.duplicates(childPointer(path, 'ports'), ports, (p) => strAt(p, 'name'), 'port name', 'name');
  listAt(c, 'env').forEach((e, i) => {
    const at = childPointer(childPointer(path, 'env'), i);
    if (strAt(e, 'value') && isSet(e, 'valueFrom')) {
      issues.add(childPointer(at, 'valueFrom'), 'may not be set together with a non-empty "value"');
    }
    const from = objAt(e, 'valueFrom');
    if (from !== undefined) {
      const sources = ENV_SOURCES.filter((s) => isSet(from, s));
      if (sources.length !== 1) issues.add(childPointer(at, 'valueFrom'), `needs exactly one of ${ENV_SOURCES.join(', ')}`);
    }
  });
  for (const which of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const probe = objAt(c, which);
    if (probe !== undefined) checkProbe(issues, childPointer(path, which), probe, which);
  }
}

export function checkPod(doc: Obj, issues: IssueList): void {
  const spec = objAt(doc, 'spec');
  const all: Array<{ path: string; c: unknown }> = [];
  for (const list of ['initContainers', 'containers']) {
    listAt(spec, list).forEach((c, i) => all.push({ path: `/spec/${list}/${i}`, c }));
  }
  // Names are unique across init and app containers (they share the pod's container namespace).
  const seen = new Map<string, string>();
  for (const { path, c } of all) {
    if (!isObj(c)) continue;
    const name = strAt(c, 'name');
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined) issues.add(`${path}/name`, `duplicate container name "${name}" (already at ${first})`);
      else seen.set(name, `${path}/name`);
    }
    checkContainer(issues, path, c);
  }
  listAt(spec, 'containers').forEach((c, i) => {
    if (isSet(c, 'restartPolicy')) issues.add(`/spec/containers/${i}/restartPolicy`, 'only init containers may set restartPolicy');
  });
  const status = objAt(doc, 'status');
  const podIP = strAt(status, 'podIP');
  const firstIP = strAt(listAt(status, 'podIPs')[0], 'ip');
  if (podIP !== undefined && firstIP !== undefined && podIP !== firstIP) {
    issues.add('/status/podIPs/0/ip', `must equal status.podIP "${podIP}"; got "${firstIP}"`);
  }
}

export function checkService(doc: Obj, issues: IssueList): void {
  const spec = objAt(doc, 'spec');
  if (spec === undefined) return;
  const ports = listAt(spec, 'ports');
  issues.duplicates('/spec/ports', ports, (p) => strAt(p, 'name'), 'port name', 'name');
  issues.duplicates(
    '/spec/ports',
    ports,
    (p) => (isObj(p) && typeof p.port === 'number' ? `${p.port}/${strAt(p, 'protocol') ?? 'TCP'}` : undefined),
    'port/protocol',
    'port',
  );
  if (ports.length > 1) {
    ports.forEach((p, i) => {
      if (isObj(p) && !strAt(p, 'name')) issues.add(`/spec/ports/${i}/name`, 'a name is required when a Service has more than one port');
    });
  }
  const type = strAt(spec, 'type') ?? 'ClusterIP';
  if (type === 'ExternalName' && !strAt(spec, 'externalName')) {
    issues.add('/spec/externalName', 'required when type is ExternalName');
  }
  if (strAt(spec, 'clusterIP') === 'None' && (type === 'NodePort' || type === 'LoadBalancer')) {
    issues.add('/spec/clusterIP', `may not be "None" (headless) for type ${type}`);
  }
  const clusterIP = strAt(spec, 'clusterIP');
  const firstIP = listAt(spec, 'clusterIPs')[0];
  if (clusterIP !== undefined && clusterIP !== '' && typeof firstIP === 'string' && firstIP !== clusterIP) {
    issues.add('/spec/clusterIPs/0', `must equal spec.clusterIP "${clusterIP}"; got "${firstIP}"`);
  }
  issues.duplicates('/spec/ipFamilies', listAt(spec, 'ipFamilies'), (f) => (typeof f === 'string' ? f : undefined), 'IP family');
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** discovery/v1 validation: every address of the slice's addressType, unique port names. */
export function checkEndpointSlice(doc: Obj, issues: IssueList): void {
  const type = strAt(doc, 'addressType');
  const valid: Record<string, { ok: (a: string) => boolean; what: string }> = {
    IPv4: { ok: (a) => net.isIPv4(a), what: 'an IPv4 address' },
    IPv6: { ok: (a) => net.isIPv6(a) && !a.includes('%'), what: 'an IPv6 address' },
    FQDN: { ok: (a) => a.length <= 253 && DNS1123_SUBDOMAIN.test(a), what: 'a DNS-1123 subdomain' },
  };
  const rule = type === undefined ? undefined : valid[type];
  if (rule !== undefined) {
    listAt(doc, 'endpoints').forEach((e, i) => {
      listAt(e, 'addresses').forEach((a, j) => {
        if (typeof a === 'string' && !rule.ok(a)) issues.add(`/endpoints/${i}/addresses/${j}`, `must be ${rule.what} (addressType ${type}); got "${a}"`);
      });
    });
  }
  issues.duplicates('/ports', listAt(doc, 'ports'), (p) => (isObj(p) ? JSON.stringify(strAt(p, 'name') ?? '') : undefined), 'port name', 'name');
}
