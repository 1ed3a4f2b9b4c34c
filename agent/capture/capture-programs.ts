/**
 * The node-wide half of capture: load Ambit's eBPF object once, set its
 * knobs, attach the cgroup programs (connect4/6, sockops, bind4/6, and for
 * DNS capture sendmsg4/6, recvmsg4/6, getpeername4/6) at the
 * configured cgroup-v2 root and the verdict program to the listeners sockmap.
 * Per-pod state (which cgroups are enrolled, sk_lookup on each pod netns)
 * lives in pod-enrollment.ts.
 *
 * With a pin directory, maps and links outlive the process: an agent that exits
 * or dies leaves capture in place, failing closed (connects go to a 15001 nobody
 * listens on; sk_lookup finds no listener and drops the SYN), and the next load
 * re-adopts it: maps are reused from their pins, and each pinned link gets the
 * newly loaded program swapped in (pinned-link.ts): no gap, no second attachment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Native, type BpfLink, type BpfLinkInfo, type BpfMap, type BpfObject, type BpfProgram } from '../../common/native/addon';
import { CounterNames, DefaultKnobs, encodeKnobs, encodeU32, sumPerCpu, type Knobs } from '../../common/native/abi';
import { cgroupId, isCgroup2Root } from '../../common/cgroup2';
import { AmbitError, ErrorCodes } from '../../common/errors';
import { adoptOrAttach } from './pinned-link';

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

export interface CloseOptions {
  /**
   * Keep pinned maps and links: capture stays in place, failing closed, for the next agent to
   * re-adopt (agent exit and restart). Default false: detach and remove every pin (uninstall).
   */
  keepPins?: boolean;
}

/** What load() found pinned by a previous agent, by link name. */
export interface Resumed {
  /** Pinned links now running this load's program. */
  adopted: string[];
  /** Pinned links that could not be updated (or were attached elsewhere) and were replaced. */
  replaced: string[];
}

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
    /** Undefined when nothing was pinned before this load. */
    readonly resumed: Readonly<Resumed> | undefined,
  ) {}

  static async load(opts: CaptureOptions): Promise<CaptureDatapath> {
    const cgroupRoot = checkCgroupRoot(opts);
    const pinDir = opts.pinDir;
    // Pins already there: a previous agent's capture, which a failed start must leave alone.
    const resuming = pinDir !== undefined && preparePinDir(pinDir);
    const object = Native.openObject(opts.objectPath);
    const links: BpfLink[] = [];
    const resumed: Resumed = { adopted: [], replaced: [] };
    try {
      object.setGlobal('knobs', encodeKnobs({ ...DefaultKnobs, ...opts.knobs }));
      const maps = Object.fromEntries(
        Object.entries(MAP_NAMES).map(([key, name]) => [key, object.map(name)]),
      ) as unknown as CaptureMaps;
      if (pinDir) {
        for (const [key, name] of Object.entries(MAP_NAMES)) {
          maps[key as keyof CaptureMaps].setPinPath(path.join(pinDir, `map_${name}`));
        }
      }
      await object.load();

      const keep = (name: string, attach: () => BpfLink, fits: (i: BpfLinkInfo) => boolean) => {
        const r = adoptOrAttach({
          pinPath: pinDir && path.join(pinDir, `link_${name}`),
          program: object.program(name),
          attach,
          fits,
          onReplace: () => resumed.replaced.push(name),
        });
        links.push(r.link);
        if (r.adopted) resumed.adopted.push(name);
      };
      // The sockmap gets its verdict program before any socket enters it (kernel epoll bug).
      const listenersId = maps.listeners.info().id;
      keep('ambit_sk_msg', () => object.program('ambit_sk_msg').attachSockmap(maps.listeners), (i) => i.type === 'sockmap' && i.mapId === listenersId);
      const rootId = cgroupId(cgroupRoot);
      for (const name of CGROUP_PROGRAMS) {
        keep(name, () => object.program(name).attachCgroup(cgroupRoot), (i) => i.type === 'cgroup' && i.cgroupId === rootId);
      }
      const found = resuming ? resumed : undefined;
      return new CaptureDatapath(cgroupRoot, pinDir, object, maps, object.program('ambit_sk_lookup'), links, found);
    } catch (e) {
      if (resuming) {
        for (const link of links) link.close();
      } else {
        for (const link of links.reverse()) {
          if (link.pinPath) link.unpin();
          link.detach();
        }
        if (pinDir) removePins(object, pinDir);
      }
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

  /**
   * Frees the object. By default detaches everything and removes the pin directory (with the
   * pods' pinned links in it); keepPins leaves pinned capture in place. Idempotent.
   */
  close(opts: CloseOptions = {}): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const keep = opts.keepPins === true && this.pinDir !== undefined;
    for (const link of [...this.links].reverse()) {
      if (keep) {
        link.close(); // a pinned link stays attached without our handle
        continue;
      }
      if (link.pinPath) link.unpin();
      link.detach();
    }
    if (this.pinDir && !keep) removePins(this.object, this.pinDir);
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

/** Creates the pin directory; true when it already holds pins (a previous agent's). */
function preparePinDir(dir: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  return fs.readdirSync(dir).length > 0;
}

function removePins(object: BpfObject, dir: string): void {
  if (!object.closed) {
    for (const name of Object.values(MAP_NAMES)) object.map(name).unpin(path.join(dir, `map_${name}`));
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
