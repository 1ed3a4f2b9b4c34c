/**
 * The node-wide half of capture: load Ambit's eBPF object once, set its
 * knobs, attach the cgroup programs (connect4/6, sockops, bind4/6, and for
 * DNS capture sendmsg4/6, recvmsg4/6, getpeername4/6) at the
 * configured cgroup-v2 root and the verdict program to the listeners sockmap.
 * Per-pod state (which cgroups are enrolled, sk_lookup on each pod netns)
 * lives in pod-enrollment.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Native, type BpfLink, type BpfMap, type BpfObject, type BpfProgram } from '../../common/native/addon';
import { CounterNames, DefaultKnobs, encodeKnobs, encodeU32, sumPerCpu, type Knobs } from '../../common/native/abi';
import { isCgroup2Root } from '../../common/cgroup2';
import { AmbitError, ErrorCodes } from '../../common/errors';

export interface CaptureOptions {
  /** cgroup-v2 directory whose descendants may be enrolled; programs attach here once. */
  cgroupRoot: string;
  /** Linked eBPF object; defaults to build/Release/bpf/ambit.bpf.o. */
  objectPath?: string;
  /** bpffs directory to pin maps and links in (state survives the process); none: nothing pinned. */
  pinDir?: string;
  knobs?: Partial<Knobs>;
  /**
   * Attaching at the machine's cgroup-v2 root captures every enrolled pod on a
   * real node, and is what a Kubernetes DaemonSet does. It must be asked for.
   */
  allowHostRootCgroup?: boolean;
}

/**
 * Programs attached at the cgroup root, each to its own hook. sendmsg/recvmsg/getpeername
 * carry DNS capture (UDP port 53 to the in-pod DNS proxy); they do nothing when the
 * dnsCapture knob is off.
 */
const CGROUP_PROGRAMS = [
  'ambit_connect4',
  'ambit_connect6',
  'ambit_sockops',
  'ambit_bind4',
  'ambit_bind6',
  'ambit_sendmsg4',
  'ambit_sendmsg6',
  'ambit_recvmsg4',
  'ambit_recvmsg6',
  'ambit_getpeername4',
  'ambit_getpeername6',
] as const;

export interface CaptureMaps {
  enrolled: BpfMap;
  podIps: BpfMap;
  bypassPorts: BpfMap;
  bypassCidrs: BpfMap;
  origDstByCookie: BpfMap;
  origDst: BpfMap;
  listeners: BpfMap;
  stats: BpfMap;
  /** DNS capture: socket cookie -> the nameserver a pod's UDP socket asked. */
  dnsOrigDst: BpfMap;
}

const MAP_NAMES: Record<keyof CaptureMaps, string> = {
  enrolled: 'enrolled',
  podIps: 'pod_ips',
  bypassPorts: 'bypass_ports',
  bypassCidrs: 'bypass_cidrs',
  origDstByCookie: 'orig_dst_by_cookie',
  origDst: 'orig_dst',
  listeners: 'listeners',
  stats: 'stats',
  dnsOrigDst: 'dns_orig_dst',
};

export class CaptureDatapath {
  private closedFlag = false;

  /** True once close() ran (capture detached). */
  get closed(): boolean {
    return this.closedFlag;
  }

  private constructor(
    readonly cgroupRoot: string,
    readonly pinDir: string | undefined,
    private readonly object: BpfObject,
    readonly maps: CaptureMaps,
    /** The per-pod netns program; pod-enrollment attaches it. */
    readonly skLookup: BpfProgram,
    private readonly links: BpfLink[],
  ) {}

  static async load(opts: CaptureOptions): Promise<CaptureDatapath> {
    const cgroupRoot = checkCgroupRoot(opts);
    if (opts.pinDir) preparePinDir(opts.pinDir);
    const object = Native.openObject(opts.objectPath);
    const links: BpfLink[] = [];
    try {
      object.setGlobal('knobs', encodeKnobs({ ...DefaultKnobs, ...opts.knobs }));
      const maps = Object.fromEntries(
        Object.entries(MAP_NAMES).map(([key, name]) => [key, object.map(name)]),
      ) as unknown as CaptureMaps;
      if (opts.pinDir) {
        for (const [key, name] of Object.entries(MAP_NAMES)) {
          maps[key as keyof CaptureMaps].setPinPath(path.join(opts.pinDir, `map_${name}`));
        }
      }
      await object.load();

      const keep = (program: string, link: BpfLink) => {
        links.push(link);
        if (!opts.pinDir) return;
        try {
          link.pin(path.join(opts.pinDir, `link_${program}`));
        } catch (e) {
          // Only the legacy sockmap attachment (kernels before 6.10) has no link to pin.
          if ((e as { code?: string }).code !== 'ENOTSUP') throw e;
        }
      };
      // The sockmap gets its verdict program before any socket enters it (kernel epoll bug).
      keep('ambit_sk_msg', object.program('ambit_sk_msg').attachSockmap(maps.listeners));
      for (const name of CGROUP_PROGRAMS) keep(name, object.program(name).attachCgroup(cgroupRoot));
      return new CaptureDatapath(cgroupRoot, opts.pinDir, object, maps, object.program('ambit_sk_lookup'), links);
    } catch (e) {
      for (const link of links.reverse()) {
        if (link.pinPath) link.unpin();
        link.detach();
      }
      if (opts.pinDir) removePins(object, opts.pinDir);
      object.close();
      throw e;
    }
  }

  /** Per-CPU counters summed, by name (see ambit_counter in ambit_abi.h). */
  counters(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    for (const [idx, name] of Object.entries(CounterNames)) {
      const v = this.maps.stats.lookup(encodeU32(Number(idx)));
      out[name] = v ? sumPerCpu(v) : 0n;
    }
    return out;
  }

  /** Detach everything, remove pins, free the object. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const link of [...this.links].reverse()) {
      if (link.pinPath) link.unpin();
      link.detach();
    }
    if (this.pinDir) removePins(this.object, this.pinDir);
    this.object.close();
  }
}

function checkCgroupRoot(opts: CaptureOptions): string {
  if (!fs.existsSync(opts.cgroupRoot)) {
    throw new AmbitError(
      ErrorCodes.BPF_ATTACH,
      `cgroup root ${opts.cgroupRoot} does not exist; create it or point cgroupRoot at an existing cgroup-v2 directory`,
    );
  }
  const real = fs.realpathSync(opts.cgroupRoot);
  if (isCgroup2Root(real) && !opts.allowHostRootCgroup) {
    throw new AmbitError(
      ErrorCodes.ROOT_CGROUP,
      `refusing to attach capture programs to the machine's root cgroup ${real}; use a cgroup created for the mesh, ` +
        'or set allowHostRootCgroup on a dedicated Kubernetes node',
    );
  }
  return real;
}

function preparePinDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
}

function removePins(object: BpfObject, dir: string): void {
  if (!object.closed) {
    for (const name of Object.values(MAP_NAMES)) object.map(name).unpin(path.join(dir, `map_${name}`));
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
