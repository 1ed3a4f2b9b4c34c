/**
 * Every connection the agent is carrying, for /debug/connections, the demo's "who talks to whom
 * with which identity", drain, and policy re-evaluation: when a new config version arrives, each
 * inbound connection's authorization is evaluated again and those no longer allowed are closed
 * (Istio evaluates only at connection start).
 */
import type { Workload } from '../model/mesh-view';

export type Direction = 'inbound' | 'outbound';
/** How the bytes travel: HBONE (mTLS), node-local hand-off, plaintext inbound, or passthrough. */
export type Transport = 'hbone' | 'local' | 'plaintext' | 'passthrough';

export interface Peer {
  address: string;
  port: number;
  workload?: Workload;
  /** SPIFFE URI when known. */
  identity?: string;
}

export interface ConnectionEntry {
  readonly id: number;
  readonly direction: Direction;
  readonly transport: Transport;
  readonly startedAt: number;
  readonly source: Peer;
  readonly destination: Peer;
  /** "<ns>/<name>" of the Service addressed, if any. */
  readonly service?: string;
  /** HBONE :authority ("ip:port") when the connection is tunnelled out (access log dst.hbone_addr). */
  readonly hboneAddr?: string;
  /** Pod (workload uid) on this node the connection belongs to. */
  readonly podUid: string;
  /** Server -> client bytes so far (Istio's "sent"). */
  bytesSent: number;
  /** Client -> server bytes so far (Istio's "received"). */
  bytesReceived: number;
  /** Re-run authorization; returns a reason when the connection is no longer allowed. */
  recheck?: () => { allowed: boolean; policy?: string; reason: string };
  /** Close with a reason (reset both sides); set by whoever owns the sockets. */
  close: (reason: Error) => void;
}

export class ConnectionTable {
  private nextId = 1;
  private readonly entries = new Map<number, ConnectionEntry>();
  private readonly emptyWaiters = new Set<() => void>();

  add(entry: Omit<ConnectionEntry, 'id' | 'startedAt' | 'bytesSent' | 'bytesReceived'>): ConnectionEntry {
    const full: ConnectionEntry = { ...entry, id: this.nextId++, startedAt: Date.now(), bytesSent: 0, bytesReceived: 0 };
    this.entries.set(full.id, full);
    return full;
  }

  remove(entry: ConnectionEntry): void {
    this.entries.delete(entry.id);
    if (this.entries.size === 0) for (const w of [...this.emptyWaiters]) w();
  }

  get size(): number {
    return this.entries.size;
  }

  list(): ConnectionEntry[] {
    return [...this.entries.values()];
  }

  forPod(podUid: string): ConnectionEntry[] {
    return this.list().filter((e) => e.podUid === podUid);
  }

  /** Re-authorizes every connection that can be; closes and returns the ones now denied. */
  reauthorize(onDenied: (entry: ConnectionEntry, verdict: { policy?: string; reason: string }) => void): number {
    let closed = 0;
    for (const entry of this.list()) {
      const verdict = entry.recheck?.();
      if (!verdict || verdict.allowed) continue;
      closed++;
      onDenied(entry, verdict);
    }
    return closed;
  }

  /** Resolves when no connection is left or the deadline passes (true = emptied). */
  waitEmpty(timeoutMs: number, podUid?: string): Promise<boolean> {
    const empty = () => (podUid === undefined ? this.entries.size === 0 : this.forPod(podUid).length === 0);
    if (empty()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!empty()) return;
        done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const poll = setInterval(check, 50);
      const done = (v: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.emptyWaiters.delete(check);
        resolve(v);
      };
      this.emptyWaiters.add(check);
    });
  }

  /** JSON for /debug/connections. */
  toJSON(): unknown[] {
    return this.list().map((e) => ({
      id: e.id,
      direction: e.direction,
      transport: e.transport,
      pod: e.podUid,
      source: peerJson(e.source),
      destination: peerJson(e.destination),
      service: e.service,
      ageMs: Date.now() - e.startedAt,
      bytesSent: e.bytesSent,
      bytesReceived: e.bytesReceived,
    }));
  }
}

function peerJson(p: Peer): unknown {
  return {
    address: p.address,
    port: p.port,
    workload: p.workload ? `${p.workload.namespace}/${p.workload.name}` : undefined,
    identity: p.identity,
  };
}
