/** The stateless-ish balancers: ROUND_ROBIN, LEAST_REQUEST (power of two choices) and RANDOM. */
import { ActiveRequests, candidates } from './active-requests';
import type { UpstreamEndpoint } from './endpoint';
import type { BalancerKind, LoadBalancer } from './load-balancer';

abstract class CountingBalancer implements LoadBalancer {
  protected readonly active = new ActiveRequests();
  abstract readonly kind: BalancerKind;
  abstract pick<E extends UpstreamEndpoint>(endpoints: readonly E[], hashKey: string | undefined, exclude?: ReadonlySet<string>): E | undefined;

  started(uid: string): void {
    this.active.started(uid);
  }

  finished(uid: string): void {
    this.active.finished(uid);
  }
}

/**
 * Strict rotation over the list as given. Like Envoy it starts at a random position, so many
 * waypoint replicas (or a restart) do not all send their first request to the same endpoint.
 * Excluded endpoints are stepped over without losing the rotation.
 */
export class RoundRobinBalancer extends CountingBalancer {
  private next: number;

  constructor(random: () => number, readonly kind: BalancerKind = 'ROUND_ROBIN') {
    super();
    this.next = Math.floor(random() * 0x7fffffff);
  }

  pick<E extends UpstreamEndpoint>(endpoints: readonly E[], _hashKey: string | undefined, exclude?: ReadonlySet<string>): E | undefined {
    const n = endpoints.length;
    if (n === 0) return undefined;
    const start = this.next % n;
    if (exclude !== undefined && exclude.size > 0) {
      for (let i = 0; i < n; i++) {
        const idx = (start + i) % n;
        if (!exclude.has(endpoints[idx].uid)) {
          this.next = idx + 1;
          return endpoints[idx];
        }
      }
    }
    this.next = start + 1;
    return endpoints[start];
  }
}

/**
 * Envoy's LEAST_REQUEST with equal weights: sample choice_count (2) distinct endpoints at random and
 * take the one with fewer active requests (first sampled on a tie). Two choices avoid the herd a
 * global "least" causes when several balancers see the same counts, at O(1) per pick.
 */
export class LeastRequestBalancer extends CountingBalancer {
  readonly kind = 'LEAST_REQUEST';
  static readonly CHOICE_COUNT = 2;

  constructor(private readonly random: () => number) {
    super();
  }

  pick<E extends UpstreamEndpoint>(endpoints: readonly E[], _hashKey: string | undefined, exclude?: ReadonlySet<string>): E | undefined {
    const pool = candidates(endpoints, exclude);
    const n = pool.length;
    if (n <= 1) return pool[0];
    const a = Math.floor(this.random() * n);
    // Second choice uniformly among the other n-1 (distinct, unlike Envoy's sampling with replacement).
    let b = Math.floor(this.random() * (n - 1));
    if (b >= a) b++;
    return this.active.active(pool[b].uid) < this.active.active(pool[a].uid) ? pool[b] : pool[a];
  }
}

export class RandomBalancer extends CountingBalancer {
  readonly kind = 'RANDOM';

  constructor(private readonly random: () => number) {
    super();
  }

  pick<E extends UpstreamEndpoint>(endpoints: readonly E[], _hashKey: string | undefined, exclude?: ReadonlySet<string>): E | undefined {
    const pool = candidates(endpoints, exclude);
    return pool.length === 0 ? undefined : pool[Math.floor(this.random() * pool.length)];
  }
}
