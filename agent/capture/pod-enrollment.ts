/**
 * Per-pod capture state. Enrolling a pod writes its bypass lists, puts its
 * 15006/15008 listeners in the sockmap, registers its IPs, attaches
 * sk_lookup to its network namespace and — last — marks its cgroup enrolled,
 * so outbound capture starts only once everything it relies on is in place.
 * Unenrolling undoes it in the reverse order. A failed enrollment rolls back
 * and leaves the maps as they were.
 */
import fs from 'node:fs';
import net from 'node:net';
import { Native, type BpfLink } from '../../common/native/addon';
import {
  Abi,
  encodeCidrKey,
  encodeIpKey,
  encodePod,
  encodePortKey,
  encodeU32,
  encodeU64,
} from '../../common/native/abi';
import { parseCidr } from '../../common/net/ip';
import { cgroupId } from '../../common/cgroup2';
import { AmbitError, ErrorCodes } from '../../common/errors';
import type { CaptureDatapath } from './capture-programs';
import type { InPodListenerFds } from './in-pod-listeners';

export interface PodBypass {
  /** Destination ports a pod's connects keep going to directly. */
  outboundPorts?: number[];
  /** Destination CIDRs a pod's connects keep going to directly. */
  outboundCidrs?: string[];
  /** Pod ports whose incoming connections are not steered to the agent. */
  inboundPorts?: number[];
}

export interface PodSpec {
  /** namespace/name, for messages. */
  name: string;
  cgroupPath: string;
  /** /run/netns/<name> or /proc/<pid>/ns/net. */
  netnsPath: string;
  ips: string[];
  bypass?: PodBypass;
  /** Refuse app binds of the agent's ports (default true). */
  bindGuard?: boolean;
}

export interface EnrolledPod {
  readonly podId: number;
  readonly spec: Readonly<PodSpec>;
  readonly cgroupId: bigint;
  readonly netnsFd: number;
  readonly netnsCookie: bigint;
}

interface PodState extends EnrolledPod {
  undo: Array<() => void>;
}

const LISTENER_SLOTS: Array<[keyof InPodListenerFds, number]> = [
  ['inbound4', Abi.AMBIT_SLOT_INBOUND4],
  ['hbone4', Abi.AMBIT_SLOT_HBONE4],
  ['inbound6', Abi.AMBIT_SLOT_INBOUND6],
  ['hbone6', Abi.AMBIT_SLOT_HBONE6],
];

export class PodEnrollments {
  private readonly pods = new Map<number, PodState>();
  private readonly byName = new Map<string, number>();

  constructor(private readonly dp: CaptureDatapath) {}

  list(): EnrolledPod[] {
    return [...this.pods.values()];
  }

  get(name: string): EnrolledPod | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.pods.get(id);
  }

  async enroll(spec: PodSpec, listeners: InPodListenerFds): Promise<EnrolledPod> {
    validate(spec);
    if (this.byName.has(spec.name)) {
      throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name} is already enrolled; unenroll it first`);
    }
    const hasV6 = spec.ips.some((ip) => net.isIP(ip) === 6);
    if (hasV6 && (listeners.inbound6 === undefined || listeners.hbone6 === undefined)) {
      throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name} has IPv6 addresses but no IPv6 listeners were given`);
    }
    const podId = this.allocateId();
    const undo: Array<() => void> = [];
    const { maps } = this.dp;
    try {
      const cg = cgroupIdOf(spec);
      const netnsFd = openNetns(spec);
      undo.push(() => fs.closeSync(netnsFd));
      const netnsCookie = await Native.netnsCookie(netnsFd);
      const flags =
        Abi.AMBIT_POD_F_CAPTURE_OUT | Abi.AMBIT_POD_F_CAPTURE_IN | (spec.bindGuard === false ? 0 : Abi.AMBIT_POD_F_BIND_GUARD);
      const podValue = encodePod({ podId, flags });

      const put = (map: typeof maps.enrolled, key: Buffer, value: Buffer) => {
        map.update(key, value);
        undo.push(() => map.delete(key));
      };
      const one = Buffer.from([1]);
      for (const port of spec.bypass?.outboundPorts ?? []) put(maps.bypassPorts, encodePortKey(podId, port, Abi.AMBIT_DIR_OUTBOUND), one);
      for (const port of spec.bypass?.inboundPorts ?? []) put(maps.bypassPorts, encodePortKey(podId, port, Abi.AMBIT_DIR_INBOUND), one);
      for (const cidr of spec.bypass?.outboundCidrs ?? []) put(maps.bypassCidrs, encodeCidrKey(podId, cidr), one);
      for (const [name, slot] of LISTENER_SLOTS) {
        const fd = listeners[name];
        if (fd === undefined) continue;
        const key = encodeU32(podId * Abi.AMBIT_SLOTS_PER_POD + slot);
        maps.listeners.update(key, encodeU64(fd));
        // The kernel empties a SOCKMAP slot when its socket is closed, and deleting an empty slot
        // fails with EINVAL: a listener closed before unenroll (PodRuntime.stop) is already gone.
        undo.push(() => {
          try {
            maps.listeners.delete(key);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
          }
        });
      }
      for (const ip of spec.ips) put(maps.podIps, encodeIpKey(ip), podValue);
      const link: BpfLink = this.dp.skLookup.attachNetns(netnsFd);
      undo.push(() => link.detach());
      // Last: from here on the pod's connects are captured.
      put(maps.enrolled, encodeU64(cg), podValue);

      const state: PodState = { podId, spec: Object.freeze({ ...spec }), cgroupId: cg, netnsFd, netnsCookie, undo };
      this.pods.set(podId, state);
      this.byName.set(spec.name, podId);
      return state;
    } catch (e) {
      runUndo(undo);
      throw e;
    }
  }

  /** Stop capturing the pod: first its connects, then its inbound steering. Idempotent. */
  unenroll(name: string): boolean {
    const id = this.byName.get(name);
    if (id === undefined) return false;
    const state = this.pods.get(id)!;
    this.pods.delete(id);
    this.byName.delete(name);
    runUndo(state.undo);
    return true;
  }

  unenrollAll(): void {
    for (const name of [...this.byName.keys()]) this.unenroll(name);
  }

  private allocateId(): number {
    for (let id = 0; id < Abi.AMBIT_MAX_PODS; id++) if (!this.pods.has(id)) return id;
    throw new AmbitError(ErrorCodes.POD_LIMIT, `this node already has ${Abi.AMBIT_MAX_PODS} enrolled pods`);
  }
}

function runUndo(undo: Array<() => void>): void {
  const errors: unknown[] = [];
  for (const step of undo.reverse()) {
    try {
      step();
    } catch (e) {
      errors.push(e);
    }
  }
  undo.length = 0;
  if (errors.length) throw new AggregateError(errors, 'some capture state could not be removed');
}

function validate(spec: PodSpec): void {
  const bad = (what: string) => new AmbitError(ErrorCodes.INVALID_ARGUMENT, `pod ${spec.name}: ${what}`);
  if (!spec.ips.length) throw bad('no pod IPs given');
  for (const ip of spec.ips) if (net.isIP(ip) === 0) throw bad(`'${ip}' is not an IP address`);
  const ports = [...(spec.bypass?.outboundPorts ?? []), ...(spec.bypass?.inboundPorts ?? [])];
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw bad(`bypass port ${p} is not 1..65535`);
  for (const c of spec.bypass?.outboundCidrs ?? []) parseCidr(c);
}

function cgroupIdOf(spec: PodSpec): bigint {
  try {
    return cgroupId(spec.cgroupPath);
  } catch (e) {
    throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name}: cgroup ${spec.cgroupPath} does not exist or is unreadable`, {
      cause: e,
    });
  }
}

function openNetns(spec: PodSpec): number {
  let fd: number;
  try {
    fd = fs.openSync(spec.netnsPath, 'r');
  } catch (e) {
    throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name}: cannot open network namespace ${spec.netnsPath}`, { cause: e });
  }
  try {
    Native.checkNetnsFd(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}
