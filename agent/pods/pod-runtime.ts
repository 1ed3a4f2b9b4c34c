/**
 * One enrolled pod's life on this node. Start (before the enrollment ack):
 *   hold the netns -> open 15001/15006/15008 inside it -> serve them -> capture (sk_lookup,
 *   sockmap, cgroup enrolled last) -> extras (DNS proxy).
 * The HBONE listener starts serving once the pod's certificate exists; until then incoming SYNs
 * wait in the kernel's accept queue. Stop: stop accepting, let the pod's connections finish until
 * the deadline, close the rest, remove capture, close the listeners, release the certificate.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { HboneServer } from '../../common/hbone/server';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import type { Logger } from '../../common/log';
import { openInPodListeners, type InPodListenerFds } from '../capture/in-pod-listeners';
import type { PodEnrollments } from '../capture/pod-enrollment';
import type { ConnectionTable } from '../proxy/connection-table';
import type { LocalPod } from '../proxy/local-pod';

export interface PodAddRequest {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  cgroupPath: string;
  ips: string[];
}

/** What serves a pod's sockets; the agent wires the pipelines in. */
export interface PodServing {
  outbound(pod: LocalPod, socket: net.Socket): void;
  plaintext(pod: LocalPod, socket: net.Socket): void;
  /** The pod's certificate (resolves once the first one is issued). */
  certificate(pod: LocalPod): Promise<WorkloadCertificate>;
  /** The pod's HBONE server (it serves the v4 and v6 listeners). */
  hboneServer(pod: LocalPod, cert: WorkloadCertificate): HboneServer;
  /** Per-pod extras (the DNS proxy); returns their closer. */
  extras(pod: LocalPod, netnsFd: number): Promise<() => Promise<void> | void>;
}

export class PodRuntime {
  private readonly servers: net.Server[] = [];
  private hbone: HboneServer[] = [];
  private hboneStarting: Promise<void> | undefined;
  private closeExtras: (() => Promise<void> | void) | undefined;
  private listeners: InPodListenerFds | undefined;
  private enrolled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    readonly pod: LocalPod,
    private readonly netnsFd: number,
    private readonly cgroupPath: string,
  ) {}

  /**
   * Takes its own reference to the namespace (`netnsFd` stays the caller's), and everything is in
   * place when this resolves; on failure nothing is left behind.
   */
  static async start(
    req: PodAddRequest,
    netnsFd: number,
    deps: { enrollments: PodEnrollments; serving: PodServing; identity: LocalPod['identity']; logger: Logger },
  ): Promise<PodRuntime> {
    const ownFd = fs.openSync(`/proc/self/fd/${netnsFd}`, 'r');
    const pod: LocalPod = {
      uid: req.uid,
      name: req.name,
      namespace: req.namespace,
      serviceAccount: req.serviceAccount,
      ips: Object.freeze([...req.ips]),
      netnsPath: `/proc/${process.pid}/fd/${ownFd}`,
      identity: deps.identity,
    };
    const rt = new PodRuntime(pod, ownFd, req.cgroupPath);
    try {
      await rt.open(deps);
      return rt;
    } catch (e) {
      await rt.stop(deps.enrollments, 0, () => undefined).catch(() => undefined);
      throw e;
    }
  }

  private async open(deps: { enrollments: PodEnrollments; serving: PodServing; logger: Logger }): Promise<void> {
    const ipv6 = this.pod.ips.some((ip) => net.isIPv6(ip));
    this.listeners = await openInPodListeners(this.netnsFd, { ipv6 });
    const l = this.listeners;
    const serve = (fd: number | undefined, handler: (pod: LocalPod, s: net.Socket) => void) => {
      if (fd === undefined) return;
      // No Nagle on the app-facing sockets: a reply relayed in two writes would otherwise wait for the
      // client's delayed ACK (~40 ms), as Envoy and ztunnel also set TCP_NODELAY.
      const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (s) => handler(this.pod, s));
      server.on('error', (e) => deps.logger.warn({ err: e, pod: this.key }, 'listener error'));
      server.listen({ fd });
      this.servers.push(server);
    };
    serve(l.outbound4, deps.serving.outbound);
    serve(l.outbound6, deps.serving.outbound);
    serve(l.inbound4, deps.serving.plaintext);
    serve(l.inbound6, deps.serving.plaintext);
    const hboneFds = [l.hbone4, ...(l.hbone6 === undefined ? [] : [l.hbone6])];
    // Until the certificate exists, SYNs to 15008 wait in the kernel's accept queue; a refusal is
    // retried (the control plane may not know the pod yet), so the pod serves once it can.
    const startHbone = (attempt: number): Promise<void> =>
      deps.serving.certificate(this.pod).then(
        async (cert) => {
          // Synchronously from the check on: stop() either sees the server or it never exists.
          if (this.stopped) return;
          const server = deps.serving.hboneServer(this.pod, cert);
          this.hbone = [server];
          await Promise.all(hboneFds.map((fd) => server.listen(fd)));
        },
        (e: Error) => {
          deps.logger.error({ err: e, pod: this.key, attempt }, 'HBONE listener not started yet; retrying');
          if (this.stopped) return;
          return new Promise<void>((resolve) => {
            this.retryTimer = setTimeout(() => resolve(startHbone(attempt + 1)), Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5)));
          });
        },
      );
    this.hboneStarting = startHbone(0).catch((e: Error) => deps.logger.error({ err: e, pod: this.key }, 'HBONE listener failed'));

    // Extras (the DNS proxy) first: capture sends port 53 to 15053 from the moment the cgroup is
    // enrolled.
    this.closeExtras = await deps.serving.extras(this.pod, this.netnsFd);
    await deps.enrollments.enroll(
      { name: this.key, cgroupPath: this.cgroupPath, netnsPath: this.pod.netnsPath, ips: [...this.pod.ips] },
      l,
    );
    this.enrolled = true;
  }

  /** Drain: no new connections on the pod's 15001/15006 (HBONE drains through its server). */
  stopAccepting(): void {
    for (const s of this.servers) s.close();
  }

  get key(): string {
    return `${this.pod.namespace}/${this.pod.name}`;
  }

  /** True once the HBONE listener serves (the pod has its certificate). */
  /** Its HBONE server(s), for certificate rotation. */
  get hboneServers(): readonly HboneServer[] {
    return this.hbone;
  }

  get serving(): boolean {
    return this.hbone.length > 0;
  }

  /**
   * `keepCapture` (agent exit with pinned capture): release the pod's capture instead of removing
   * it, so the pod fails closed until the next agent re-adopts it.
   */
  async stop(
    enrollments: PodEnrollments,
    drainMs: number,
    closeConnections: () => void,
    table?: ConnectionTable,
    keepCapture = false,
  ): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const s of this.servers) s.close();
    const hbone = this.hbone;
    if (table && drainMs > 0) {
      await Promise.all([table.waitEmpty(drainMs, this.pod.uid), ...hbone.map((h) => h.drain(drainMs))]);
    }
    closeConnections();
    try {
      await Promise.all(hbone.map((h) => h.close()));
      if (this.enrolled) {
        if (keepCapture) enrollments.release(this.key);
        else enrollments.unenroll(this.key);
      }
      if (this.closeExtras) await this.closeExtras();
    } finally {
      this.closeFds();
    }
  }

  /** Listening fds net.Server did not take, and our netns reference. */
  private closeFds(): void {
    // Listening fds: net.Server.close() closed the ones it served; close any it did not take.
    if (this.listeners) {
      for (const fd of Object.values(this.listeners) as Array<number | undefined>) {
        if (fd === undefined) continue;
        try {
          fs.fstatSync(fd);
        } catch {
          continue;
        }
        if (!this.servedFds().has(fd)) fs.closeSync(fd);
      }
    }
    fs.closeSync(this.netnsFd);
  }

  private servedFds(): Set<number> {
    const out = new Set<number>();
    const l = this.listeners;
    if (!l) return out;
    for (const fd of [l.outbound4, l.outbound6, l.inbound4, l.inbound6]) if (fd !== undefined) out.add(fd);
    if (this.hbone.length > 0) for (const fd of [l.hbone4, l.hbone6]) if (fd !== undefined) out.add(fd);
    return out;
  }
}
