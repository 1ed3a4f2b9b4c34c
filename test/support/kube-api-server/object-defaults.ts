/**
 * What the real API server fills in on create, so objects reaching the client look like a
 * cluster's (and the control plane's schemas are exercised on them): Service cluster IPs and
 * defaults, Pod defaults, the Namespace name label.
 */
import type { Obj } from './api-status';

export class ClusterIpAllocator {
  private next = 10;
  allocate(): string {
    const n = this.next++;
    return `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  }
}

export function applyCreateDefaults(kind: string, o: Obj, ips: ClusterIpAllocator): void {
  if (kind === 'Namespace') {
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name };
    o.spec = { finalizers: ['kubernetes'], ...o.spec };
    o.status = { phase: 'Active' };
  } else if (kind === 'Service') {
    const spec = (o.spec ??= {});
    spec.type ??= 'ClusterIP';
    if (spec.type !== 'ExternalName' && (spec.clusterIP === undefined || spec.clusterIP === '')) spec.clusterIP = ips.allocate();
    if (spec.clusterIP !== undefined && spec.clusterIP !== 'None') spec.clusterIPs ??= [spec.clusterIP];
    spec.sessionAffinity ??= 'None';
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    o.status ??= { loadBalancer: {} };
  } else if (kind === 'Pod') {
    const spec = (o.spec ??= {});
    spec.restartPolicy ??= 'Always';
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.schedulerName ??= 'default-scheduler';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.securityContext ??= {};
    spec.enableServiceLinks ??= true;
    spec.serviceAccountName ??= 'default';
    spec.serviceAccount ??= spec.serviceAccountName;
    for (const c of spec.containers ?? []) {
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.imagePullPolicy ??= 'IfNotPresent';
      c.resources ??= {};
    }
    o.status ??= { phase: 'Pending', qosClass: 'BestEffort' };
  }
}
