// status.json as the terminal shows it (`ambit local status`, and the summary `up` prints):
// the control plane, then tables of nodes, pods and services.
import { formatTable } from './table';
import type { StatusDoc } from './runtime-record';

function age(since: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function controlPlaneLine(cp: StatusDoc['controlPlane']): string {
  switch (cp.state) {
    case 'running':
      return `control plane: gRPC ${cp.grpcAddress}, status ${cp.httpAddress}`;
    case 'starting':
      return 'control plane: starting';
    case 'failed':
      return `control plane: not running (${cp.error})`;
  }
}

export function renderStatus(doc: StatusDoc): string[] {
  const out: string[] = [];
  out.push(`runtime: pid ${doc.runtime.pid}, ${doc.state}, up ${age(doc.runtime.startedAt)}, config ${doc.runtime.dir}`);
  out.push(controlPlaneLine(doc.controlPlane));
  out.push('');
  out.push(
    ...formatTable(
      ['NODE', 'NETNS', 'POD SUBNETS', 'HOST IP', 'PODS', 'AGENT'],
      doc.nodes.map((n) => [n.name, n.netns, n.subnets.join(' '), n.hostIP, String(n.pods), agentCell(n.agent)]),
    ),
  );
  out.push('');
  out.push(
    ...formatTable(
      ['POD', 'NODE', 'IPS', 'PHASE', 'READY', 'RESTARTS', 'ENROLLED'],
      doc.pods.map((p) => [
        `${p.namespace}/${p.name}`,
        p.node,
        p.podIPs.join(' ') || '-',
        p.phase,
        `${p.containers.filter((c) => c.ready).length}/${p.containers.length}`,
        String(p.restarts),
        p.enrolled,
      ]),
    ),
  );
  if (doc.services.length > 0) {
    out.push('');
    out.push(
      ...formatTable(
        ['SERVICE', 'CLUSTER-IP', 'PORTS', 'ENDPOINTS (ready)'],
        doc.services.map((s) => [
          `${s.namespace}/${s.name}`,
          s.clusterIP,
          s.ports.map((p) => `${p.port}/${p.protocol}`).join(',') || '-',
          s.endpoints
            .filter((e) => e.ready)
            .map((e) => `${e.ip}:${e.ports.join(',')}`)
            .join(' ') || '<none>',
        ]),
      ),
    );
  }
  const notReady = doc.pods.filter((p) => !p.ready && p.phase === 'Running');
  for (const p of notReady) {
    const why = p.containers.map((c) => (c.probe ? `${c.name}: readiness ${c.probe}` : c.state.kind === 'waiting' ? `${c.name}: ${c.state.reason}` : '')).filter(Boolean);
    if (why.length > 0) out.push(`not ready ${p.namespace}/${p.name}: ${why.join('; ')}`);
  }
  for (const p of doc.pods.filter((x) => x.message)) out.push(`${p.namespace}/${p.name}: ${p.message}`);
  for (const p of doc.problems) out.push(`${p.severity}: ${p.file ?? p.source}${p.line ? `:${p.line}` : ''} ${p.message}`);
  return out;
}

function agentCell(a: StatusDoc['nodes'][number]['agent']): string {
  if (a === undefined) return '-';
  const state = a.running ? `pid ${a.pid}` : 'restarting';
  return `${state} http://${a.adminAddress}:15000${a.restarts > 0 ? ` (${a.restarts} restarts)` : ''}`;
}
