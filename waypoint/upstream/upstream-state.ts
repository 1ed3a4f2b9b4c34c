/**
 * Per destination (service hostname + port) state that must outlive a config version: the load
 * balancer (round-robin position, active request counts), outlier ejections, connection-pool
 * occupancy and the retry budget. It is rebuilt only when that destination's DestinationRule
 * traffic policy itself changes, so an unrelated config push does not readmit an ejected endpoint.
 */
import type { TrafficPolicy__Output } from '../../common/proto/generated/ambit/v1/TrafficPolicy';
import { createLoadBalancer, type LoadBalancer } from '../balance/load-balancer';
import { OutlierDetector } from '../resilience/outlier-detector';
import { PoolLimiter } from '../resilience/pool-limits';
import { RetryBudget } from '../resilience/retry-policy';
import type { Service, WaypointView } from '../model/waypoint-view';

export class UpstreamState {
  readonly balancer: LoadBalancer;
  readonly outliers: OutlierDetector | undefined;
  readonly pool: PoolLimiter;
  readonly budget: RetryBudget;

  constructor(
    readonly policy: TrafficPolicy__Output | null,
    readonly policyKey: string,
    readonly policySource: string | undefined,
  ) {
    this.balancer = createLoadBalancer(policy?.loadBalancer ?? null);
    this.outliers = policy?.outlierDetection ? new OutlierDetector(policy.outlierDetection) : undefined;
    this.pool = new PoolLimiter(policy?.connectionPool ?? null);
    this.budget = new RetryBudget(policy?.retryBudget ?? null, policy?.connectionPool?.http?.maxRetries ?? 0);
  }
}

export class UpstreamStates {
  private readonly states = new Map<string, UpstreamState>();

  get(view: WaypointView, service: Service, port: number): UpstreamState {
    const key = `${service.hostname}:${port}`;
    const { policy, source } = view.trafficPolicyFor(service.hostname, port);
    const policyKey = policy ? JSON.stringify(policy) : '';
    let state = this.states.get(key);
    if (!state || state.policyKey !== policyKey) {
      state = new UpstreamState(policy, policyKey, source);
      this.states.set(key, state);
    }
    return state;
  }

  /** Forget destinations the view no longer has. */
  retain(view: WaypointView): void {
    const live = new Set<string>();
    for (const s of view.services.values()) for (const p of s.ports) live.add(`${s.hostname}:${p.servicePort}`);
    for (const k of this.states.keys()) if (!live.has(k)) this.states.delete(k);
  }

  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, s] of this.states) {
      out[k] = { policy: s.policySource ?? null, pool: s.pool.stats(), ejections: s.outliers?.ejections() ?? [] };
    }
    return out;
  }
}
