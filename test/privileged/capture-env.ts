/**
 * Plays the agent's part for the capture tests and the demo: loads the
 * datapath at a node's cgroup, opens a pod's listeners through the addon,
 * enrolls it, and serves each listener with a tiny server that records what
 * it accepted (local/remote address, recovered original destination) and
 * answers with the listener's name.
 */
import net from 'node:net';
import path from 'node:path';
import { CaptureDatapath } from '../../agent/capture/capture-programs';
import { openInPodListeners, type InPodListenerFds } from '../../agent/capture/in-pod-listeners';
import { PodEnrollments, type PodBypass } from '../../agent/capture/pod-enrollment';
import { withNetns } from '../../common/net/netns-dial';
import { BpfOrigDstLookup } from '../../agent/capture/orig-dst';
import { Native, type Endpoint } from '../../common/native/addon';
import type { OrigDst } from '../../common/native/abi';
import { defer, type Mesh, type MeshNode, type Pod } from '../harness';

export interface Accepted {
  pod: string;
  listener: keyof InPodListenerFds;
  local: Endpoint;
  remote: Endpoint;
  origDst: OrigDst | null;
}

export class CaptureEnv {
  readonly accepted: Accepted[] = [];
  readonly origDst: BpfOrigDstLookup;
  readonly enrollments: PodEnrollments;
  private readonly servers = new Map<string, net.Server[]>();
  private closed = false;

  private constructor(readonly dp: CaptureDatapath) {
    this.origDst = new BpfOrigDstLookup(dp.maps.origDst);
    this.enrollments = new PodEnrollments(dp);
  }

  /** `pinDir` defaults to <mesh pin dir>/<node>; a second env on the same one re-adopts its capture. */
  static async create(mesh: Mesh, node: MeshNode, opts: { pinDir?: string } = {}): Promise<CaptureEnv> {
    const dp = await CaptureDatapath.load({ cgroupRoot: node.cgroupPath, pinDir: opts.pinDir ?? path.join(mesh.pinDir, node.name) });
    const env = new CaptureEnv(dp);
    defer(`capture datapath of ${node.name}`, () => env.close());
    return env;
  }

  async enroll(pod: Pod, bypass?: PodBypass): Promise<InPodListenerFds> {
    const fds = await withNetns(pod.netnsPath, (fd) => openInPodListeners(fd, { ipv6: true }));
    const servers: net.Server[] = [];
    this.servers.set(pod.name, servers);
    for (const [name, fd] of Object.entries(fds) as Array<[keyof InPodListenerFds, number]>) {
      const server = net.createServer((sock) => {
        const info = Native.socketInfo(Native.socketFdOf(sock));
        this.accepted.push({
          pod: pod.name,
          listener: name,
          local: info.local!,
          remote: info.remote!,
          origDst: name.startsWith('outbound') ? this.origDst.lookup(sock) : null,
        });
        sock.on('error', () => sock.destroy());
        // Read to EOF: a socket that never reads never sees the peer's FIN and never closes.
        sock.resume();
        sock.end(`${name}\n`);
      });
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ fd }, resolve));
      servers.push(server);
    }
    await this.enrollments.enroll(
      { name: pod.name, cgroupPath: pod.cgroupPath, netnsPath: pod.netnsPath, ips: [pod.ipv4, pod.ipv6], bypass },
      fds,
    );
    return fds;
  }

  async unenroll(pod: Pod): Promise<void> {
    this.enrollments.unenroll(pod.name);
    for (const s of this.servers.get(pod.name) ?? []) await new Promise<void>((r) => s.close(() => r()));
    this.servers.delete(pod.name);
  }

  lastAccepted(pod: string): Accepted | undefined {
    return [...this.accepted].reverse().find((a) => a.pod === pod);
  }

  /**
   * What an agent exiting (or dying) with a pin directory leaves: its listeners are gone, its
   * capture stays pinned and fails closed, for the next CaptureEnv on the same pins to re-adopt.
   */
  async exitKeepingCapture(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pod of this.enrollments.list()) this.enrollments.release(pod.spec.name);
    await Promise.all([...this.servers.values()].flat().map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.clear();
    this.dp.close({ keepPins: true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.enrollments.unenrollAll();
    for (const list of this.servers.values()) for (const s of list) s.close();
    this.servers.clear();
    this.dp.close();
  }
}
