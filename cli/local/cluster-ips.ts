// ClusterIPs for Services that do not set one, as the API server allocates them from the
// service CIDR. The local range is 198.19.0.0/16: the upper half of RFC 2544's 198.18.0.0/15,
// reserved for benchmarking and never routed on the Internet, and disjoint from the pod and link
// addresses (198.18.0.0/16). No route to it exists anywhere: a VIP only works once the agent
// captures the connect() and picks an endpoint, exactly like a ClusterIP without kube-proxy.
import net from 'node:net';

export const SERVICE_CIDR = '198.19.0.0/16';
/** .0.0 is the network; the API server keeps the first addresses for itself (kubernetes.default). */
const FIRST = 10;
const SIZE = 65_536;
const BASE = (198 << 24) | (19 << 16);

const toIp = (offset: number): string => {
  const n = (BASE + offset) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
};

export interface VipResult {
  /** The ClusterIP, or 'None' for a headless Service. */
  ip: string;
  /** Set when the Service asked for an address it could not have. */
  warning?: string;
}

/** Allocates and remembers one ClusterIP per Service key (namespace/name). */
export class ClusterIpAllocator {
  private readonly byKey = new Map<string, string>();
  private readonly owner = new Map<string, string>();
  private cursor = FIRST;

  /** The ClusterIP of `key`: the one it has, the `requested` one when free, or the next free one. */
  assign(key: string, requested?: string): VipResult {
    if (requested === 'None') {
      this.release(key);
      return { ip: 'None' };
    }
    const current = this.byKey.get(key);
    if (requested !== undefined && requested !== '' && requested !== current) {
      if (net.isIPv4(requested) && !this.owner.has(requested)) {
        this.release(key);
        this.take(key, requested);
        return { ip: requested };
      }
      const why = net.isIPv4(requested) ? `already used by ${this.owner.get(requested)}` : 'not an IPv4 address';
      const fallback = current ?? this.take(key, this.nextFree());
      return { ip: fallback, warning: `clusterIP ${requested} of ${key} is ${why}; using ${fallback}` };
    }
    return { ip: current ?? this.take(key, this.nextFree()) };
  }

  get(key: string): string | undefined {
    return this.byKey.get(key);
  }

  release(key: string): void {
    const ip = this.byKey.get(key);
    if (ip === undefined) return;
    this.byKey.delete(key);
    this.owner.delete(ip);
  }

  private take(key: string, ip: string): string {
    this.byKey.set(key, ip);
    this.owner.set(ip, key);
    return ip;
  }

  /** Next free address after the last one handed out, wrapping around (never .0.0-.0.9 or .255.255). */
  private nextFree(): string {
    for (let i = 0; i < SIZE; i++) {
      const offset = this.cursor;
      this.cursor = this.cursor + 1 >= SIZE - 1 ? FIRST : this.cursor + 1;
      const ip = toIp(offset);
      if (!this.owner.has(ip)) return ip;
    }
    throw new RangeError(`the service range ${SERVICE_CIDR} is exhausted`);
  }
}
