/**
 * Picks the upstream endpoint for one attempt of a request, as the DestinationRule's
 * trafficPolicy.loadBalancer says. `createLoadBalancer` is called once per (destination, subset,
 * port) policy and the balancer lives as long as that policy; its state (round-robin position,
 * active request counts, hash tables) is per waypoint process, as in Envoy.
 *
 * Default: ROUND_ROBIN for LB_UNSPECIFIED. Istio's UNSPECIFIED means Envoy's LEAST_REQUEST, but a
 * waypoint's request counts are local to one replica and usually tiny, where least-request
 * degenerates to random; round robin spreads even a single client's requests exactly evenly and is
 * deterministic to test. (The proto comment on LB_UNSPECIFIED records the same choice.)
 */
import type { LoadBalancer__Output } from '../../common/proto/generated/ambit/v1/LoadBalancer';
import { ConsistentHashBalancer } from './consistent-hash-balancer';
import type { UpstreamEndpoint } from './endpoint';
import { maglevTableSize } from './maglev';
import { RING_HASH_DEFAULT_MIN_SIZE } from './ring-hash';
import { LeastRequestBalancer, RandomBalancer, RoundRobinBalancer } from './simple-balancers';

export type BalancerKind = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH' | 'RING_HASH' | 'MAGLEV';

export interface LoadBalancer {
  readonly kind: BalancerKind;
  /**
   * One endpoint of `endpoints` (already filtered by outlier detection), or undefined when the list
   * is empty. `hashKey` matters only to consistent-hash kinds (undefined = no key: pick at random).
   * `exclude` holds the uids this request's earlier attempts used (Envoy's previous_hosts retry
   * predicate); when it covers every endpoint it is ignored rather than failing the retry.
   */
  pick<E extends UpstreamEndpoint>(endpoints: readonly E[], hashKey: string | undefined, exclude?: ReadonlySet<string>): E | undefined;
  /** A request to `uid` started / finished (LEAST_REQUEST weighs these). Pair every started with one finished. */
  started(uid: string): void;
  finished(uid: string): void;
}

/**
 * The balancer for a policy (null = no loadBalancer configured). `random` is injectable for tests.
 * PASSTHROUGH (Istio: forward to the address the client dialed) is the upstream stage's business: it
 * should dial the request's original destination; if it still asks, pick() round-robins.
 * Throws a WaypointError (AMBIT_ERR_INVALID_BACKEND) for an unusable Maglev table size.
 */
export function createLoadBalancer(lb: LoadBalancer__Output | null, random: () => number = Math.random): LoadBalancer {
  const ch = lb?.consistentHash ?? null;
  if (ch !== null) {
    if (ch.algorithm === 'maglevTableSize' || (ch.algorithm === undefined && (ch.maglevTableSize ?? 0) > 0)) {
      return new ConsistentHashBalancer('MAGLEV', maglevTableSize(ch.maglevTableSize ?? 0), random);
    }
    const ring = ch.ringHashMinimumRingSize ?? 0;
    return new ConsistentHashBalancer('RING_HASH', ring > 0 ? ring : RING_HASH_DEFAULT_MIN_SIZE, random);
  }
  switch (lb?.simple ?? 'LB_UNSPECIFIED') {
    case 'LEAST_REQUEST':
      return new LeastRequestBalancer(random);
    case 'RANDOM':
      return new RandomBalancer(random);
    case 'PASSTHROUGH':
      return new RoundRobinBalancer(random, 'PASSTHROUGH');
    case 'ROUND_ROBIN':
    case 'LB_UNSPECIFIED':
    default:
      return new RoundRobinBalancer(random);
  }
}
