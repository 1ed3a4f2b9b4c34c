/**
 * Per-pod capture state. Enrolling a pod writes its bypass lists, puts its
 * 15006/15008 listeners in the sockmap, registers its IPs, attaches
 * sk_lookup to its network namespace and — last — marks its cgroup enrolled,
 * so outbound capture starts only once everything it relies on is in place.
 * Unenrolling undoes it in the reverse order. A failed enrollment rolls back
 * and leaves the maps as they were.
 *
 * With the datapath's pin directory, capture outlives the agent: each pod's
 * sk_lookup link is pinned at <pinDir>/netns/<netns cookie> (stable for the
 * namespace's life, never reused), and release() (agent exit) keeps it and the
 * map entries. The next agent finds them (leftover-state.ts): re-enrolling a pod
 * re-adopts its pinned link and, by its cgroup, its pod id; reconcile() after
 * the enrollment snapshot removes whatever no current pod re-adopted.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Native, type BpfLink, type BpfMap } from '../../common/native/addon';
import {
  Abi,
  encodeCidrKey,
  encodeIpKey,
  encodePod,
  encodePortKey,
  encodeU32,
  encodeU64,
} from '../../common/native/abi';
import { AmbitError, ErrorCodes } from '../../common/errors';
import type { CaptureDatapath } from './capture-programs';
import type { InPodListenerFds } from './in-pod-listeners';
import { entryKey, removeLeftover, scanLeftovers, type LeftoverPod } from './leftover-state';
import { adoptOrAttach } from './pinned-link';
import { openPodNetns, podCgroupId, validatePodSpec, type PodSpec } from './pod-spec';

export type { PodBypass, PodSpec } from './pod-spec';

export interface EnrolledPod {
  readonly podId: number;
  readonly spec: Readonly<PodSpec>;
  readonly cgroupId: bigint;
  readonly netnsFd: number;
  readonly netnsCookie: bigint;
}

interface PodState extends EnrolledPod {
  undo: Array<() => void>;
  link: BpfLink;
}

export interface ReconcileResult {
  /** Leftover pods (pod ids) whose map entries were removed. */
  pods: number;
  /** Pinned netns links of namespaces no current pod has, detached. */
  links: number;
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
  /** Ids of pods enrolled or being enrolled. */
  private readonly claimed = new Set<number>();
  /** Netns cookies of enrollments in flight: their pins are not leftovers. */
  private readonly inFlight = new Set<string>();
  /** What a previous agent left, by pod id, until re-adopted or reconciled. */
  private readonly leftovers: Map<number, LeftoverPod>;
  private readonly leftoverByCgroup = new Map<bigint, number>();
  private readonly netnsPins: string | undefined;

  constructor(private readonly dp: CaptureDatapath) {
    this.netnsPins = dp.pinDir && path.join(dp.pinDir, 'netns');
    if (this.netnsPins) fs.mkdirSync(this.netnsPins, { recursive: true });
    // Without pins the maps are this process's own and start empty.
    this.leftovers = dp.pinDir ? scanLeftovers(dp.maps) : new Map();
    for (const l of this.leftovers.values()) for (const cg of l.cgroupIds) this.leftoverByCgroup.set(cg, l.podId);
  }

  list(): EnrolledPod[] {
    return [...this.pods.values()];
  }

  get(name: string): EnrolledPod | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.pods.get(id);
  }

  /** Pod ids a previous agent left in the maps, not re-adopted (yet). */
  get leftoverPodIds(): number[] {
    return [...this.leftovers.keys()].sort((a, b) => a - b);
  }

  async enroll(spec: PodSpec, listeners: InPodListenerFds): Promise<EnrolledPod> {
    validatePodSpec(spec);
    if (this.byName.has(spec.name)) {
      throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name} is already enrolled; unenroll it first`);
    }
    const hasV6 = spec.ips.some((ip) => net.isIP(ip) === 6);
    if (hasV6 && (listeners.inbound6 === undefined || listeners.hbone6 === undefined)) {
      throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name} has IPv6 addresses but no IPv6 listeners were given`);
    }
    const cg = podCgroupId(spec);
    const podId = this.claimId(cg);
    const leftover = this.leftovers.get(podId);
    // undo: what unenroll runs; restore: what a failed enrollment runs (previous values back, so
    // a pod that fails to be re-adopted keeps failing closed).
    const undo: Array<() => void> = [];
    const restore: Array<() => void> = [];
    const written = new Set<string>();
    const { maps } = this.dp;
    let cookie: string | undefined;
    try {
      const netnsFd = openPodNetns(spec);
      undo.push(() => fs.closeSync(netnsFd));
      restore.push(() => fs.closeSync(netnsFd));
      const netnsCookie = await Native.netnsCookie(netnsFd);
      cookie = String(netnsCookie);
      this.inFlight.add(cookie);
      const flags =
        Abi.AMBIT_POD_F_CAPTURE_OUT | Abi.AMBIT_POD_F_CAPTURE_IN | (spec.bindGuard === false ? 0 : Abi.AMBIT_POD_F_BIND_GUARD);
      const podValue = encodePod({ podId, flags });

      const put = (map: BpfMap, key: Buffer, value: Buffer) => {
        const prev = map.lookup(key);
        map.update(key, value);
        written.add(entryKey(map, key));
        undo.push(() => map.delete(key));
        restore.push(() => (prev ? map.update(key, prev) : map.delete(key)));
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
        const drop = () => {
          try {
            maps.listeners.delete(key);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
          }
        };
        undo.push(drop);
        restore.push(drop);
      }
      for (const ip of spec.ips) {
        // An IP can move to a new pod while this one drains: remove the entry only while it is
        // still ours, or the successor's inbound steering would go (fail-open).
        const key = encodeIpKey(ip);
        put(maps.podIps, key, podValue);
        undo.pop();
        undo.push(() => {
          const cur = maps.podIps.lookup(key);
          if (cur && cur.equals(podValue)) maps.podIps.delete(key);
        });
      }
      const netnsIno = fs.fstatSync(netnsFd).ino;
      const { link, adopted } = adoptOrAttach({
        pinPath: this.netnsPins && path.join(this.netnsPins, cookie),
        program: this.dp.skLookup,
        attach: () => this.dp.skLookup.attachNetns(netnsFd),
        fits: (i) => i.type === 'netns' && i.netnsIno === netnsIno,
      });
      undo.push(() => {
        link.unpin();
        link.detach();
      });
      restore.push(() => {
        if (adopted) return link.close(); // the previous agent's link, now running our program
        link.unpin();
        link.detach();
      });
      // Last: from here on the pod's connects are captured (a re-adopted pod's never stopped being).
      put(maps.enrolled, encodeU64(cg), podValue);

      if (leftover) {
        // Its id and link are this pod's again; what it had before and has no more goes.
        removeLeftover(maps, leftover, written);
        this.leftovers.delete(podId);
        for (const c of leftover.cgroupIds) this.leftoverByCgroup.delete(c);
      }
      const state: PodState = { podId, spec: Object.freeze({ ...spec }), cgroupId: cg, netnsFd, netnsCookie, undo, link };
      this.pods.set(podId, state);
      this.byName.set(spec.name, podId);
      return state;
    } catch (e) {
      this.claimed.delete(podId);
      runUndo(restore);
      throw e;
    } finally {
      if (cookie !== undefined) this.inFlight.delete(cookie);
    }
  }

  /** Stop capturing the pod: first its connects, then its inbound steering. Idempotent. */
  unenroll(name: string): boolean {
    const state = this.forget(name);
    if (!state) return false;
    runUndo(state.undo);
    return true;
  }

  unenrollAll(): void {
    for (const name of [...this.byName.keys()]) this.unenroll(name);
  }

  /**
   * Agent exit with pins: let go of the pod but leave its capture in place (map entries, pinned
   * sk_lookup link), failing closed until the next agent re-adopts it. Without pins there is
   * nothing to leave behind: the pod is unenrolled.
   */
  release(name: string): boolean {
    if (!this.netnsPins) return this.unenroll(name);
    const state = this.forget(name);
    if (!state) return false;
    state.link.close();
    fs.closeSync(state.netnsFd);
    state.undo.length = 0;
    return true;
  }

  /**
   * After an enrollment snapshot: removes the map entries of leftover pods nobody re-adopted (pods
   * deleted or taken out of the mesh while no agent ran), and pinned netns links of namespaces no
   * current pod has. Enrollments in flight are left alone.
   */
  reconcile(): ReconcileResult {
    const result: ReconcileResult = { pods: 0, links: 0 };
    for (const leftover of [...this.leftovers.values()]) {
      if (this.claimed.has(leftover.podId)) continue;
      removeLeftover(this.dp.maps, leftover);
      this.leftovers.delete(leftover.podId);
      for (const c of leftover.cgroupIds) this.leftoverByCgroup.delete(c);
      result.pods++;
    }
    if (!this.netnsPins) return result;
    const live = new Set([...this.inFlight, ...[...this.pods.values()].map((p) => String(p.netnsCookie))]);
    for (const file of fs.readdirSync(this.netnsPins)) {
      if (live.has(file) || live.has(file.replace(/_new$/, ''))) continue;
      const pin = path.join(this.netnsPins, file);
      try {
        const link = Native.openPinnedLink(pin);
        link.unpin();
        link.detach();
      } catch {
        fs.rmSync(pin, { force: true }); // not a link: nothing of ours to detach
      }
      result.links++;
    }
    return result;
  }

  private forget(name: string): PodState | undefined {
    const id = this.byName.get(name);
    if (id === undefined) return undefined;
    const state = this.pods.get(id)!;
    this.pods.delete(id);
    this.byName.delete(name);
    this.claimed.delete(id);
    return state;
  }

  /** The id a previous agent gave this cgroup, else the lowest id neither used nor left over. */
  private claimId(cg: bigint): number {
    const previous = this.leftoverByCgroup.get(cg);
    if (previous !== undefined && !this.claimed.has(previous)) {
      this.claimed.add(previous);
      return previous;
    }
    for (let id = 0; id < Abi.AMBIT_MAX_PODS; id++) {
      if (this.claimed.has(id) || this.leftovers.has(id)) continue;
      this.claimed.add(id);
      return id;
    }
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
