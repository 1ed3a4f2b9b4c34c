/**
 * Connects the data path's reports (agent/proxy/observer.ts) to Istio's metrics, the access log
 * and the policy diagnostics channel. Outbound connections report as reporter="source", inbound
 * as "destination"; the node-local hand-off is both ends at once, so it reports twice, as two
 * Istio proxies would.
 */
import { Diagnostics } from '../../common/diagnostics';
import type { ConnectionEntry, Peer } from '../proxy/connection-table';
import type { ByteSink, ConnectionObserver, FailedAttempt, Outcome } from '../proxy/observer';
import type { MeshView } from '../model/mesh-view';
import { connectionLabels, type ConnectionSecurityPolicy, type Reporter, type ResponseFlag } from './connection-labels';
import type { ConnectionTelemetry, TrackedConnection } from './connection-telemetry';

const hostPort = (p: Peer): string => (p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`);

export class TelemetryObserver implements ConnectionObserver {
  private readonly tracked = new WeakMap<ConnectionEntry, TrackedConnection[]>();

  constructor(
    private readonly telemetry: ConnectionTelemetry,
    private readonly view: () => MeshView,
  ) {}

  opened(entry: ConnectionEntry): ByteSink {
    const conns = reportersOf(entry).map((reporter) => this.telemetry.open(this.labels(entry, reporter, '-'), this.peers(entry)));
    this.tracked.set(entry, conns);
    return {
      received: (n) => {
        for (const c of conns) c.addReceived(n);
      },
      sent: (n) => {
        for (const c of conns) c.addSent(n);
      },
    };
  }

  closed(entry: ConnectionEntry, outcome: Outcome): void {
    for (const c of this.tracked.get(entry) ?? []) {
      c.close({ error: outcome.error, responseFlags: outcome.flags as ResponseFlag, policy: outcome.policy });
    }
  }

  failed(attempt: FailedAttempt, outcome: Outcome): void {
    for (const reporter of reportersOf(attempt)) {
      this.telemetry.failed(this.labels(attempt, reporter, outcome.flags as ResponseFlag), outcome.flags as ResponseFlag, {
        peers: this.peers(attempt),
        error: outcome.error,
        policy: outcome.policy,
      });
    }
    if (outcome.flags === 'DENY') {
      Diagnostics.policyDeny.publishWith(() => ({
        direction: attempt.direction,
        src: hostPort(attempt.source),
        dst: hostPort(attempt.destination),
        sourcePrincipal: attempt.source.identity,
        destinationWorkload: attempt.destination.workload?.name,
        destinationNamespace: attempt.destination.workload?.namespace,
        policy: outcome.policy,
        reason: outcome.error?.message ?? 'denied',
      }));
    }
  }

  private labels(c: FailedAttempt, reporter: Reporter, flags: ResponseFlag) {
    const view = this.view();
    const dst = c.destination.workload;
    const service = c.service ? view.services.get(c.service) : dst ? view.serviceFor(dst, c.destination.port) : undefined;
    const security: ConnectionSecurityPolicy = c.transport === 'hbone' || c.transport === 'local' ? 'mutual_tls' : 'none';
    return connectionLabels({
      reporter,
      source: c.source.workload,
      destination: c.destination.workload,
      sourcePrincipal: c.transport === 'plaintext' || c.transport === 'passthrough' ? undefined : c.source.identity,
      destinationPrincipal: c.destination.identity,
      destinationService: service ? { hostname: service.hostname, name: service.name, namespace: service.namespace } : undefined,
      security,
      flags,
    });
  }

  private peers(c: FailedAttempt) {
    return {
      src: hostPort(c.source),
      dst: hostPort(c.destination),
      srcName: c.source.workload?.name,
      dstName: c.destination.workload?.name,
      // Outbound: the authority sent; inbound HBONE: the one received (the destination itself).
      hboneAddr: c.hboneAddr ?? (c.transport === 'hbone' && c.direction === 'inbound' ? hostPort(c.destination) : undefined),
    };
  }
}

function reportersOf(c: Pick<FailedAttempt, 'direction' | 'transport'>): Reporter[] {
  if (c.transport === 'local') return ['source', 'destination'];
  return [c.direction === 'outbound' ? 'source' : 'destination'];
}
