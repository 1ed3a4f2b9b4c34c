/**
 * Per-pod capture state a previous agent left in the pinned maps (it exited or died with its pods
 * still enrolled, so they kept failing closed). Read once at start, by pod id: the pod ids found
 * stay reserved, so a pod enrolled before the enrollment snapshot finishes can never be handed an
 * id whose old bypass entries or listener slots would then apply to it (or its to a leftover pod).
 * A pod re-enrolled in the same cgroup gets its id back (pod-enrollment.ts); whatever the
 * snapshot did not re-adopt is removed by PodEnrollments.reconcile().
 */
import type { BpfMap } from '../../common/native/addon';
import { Abi, decodePod, decodeU64, encodeU32, podIdOfCidrKey, podIdOfPortKey } from '../../common/native/abi';
import type { CaptureMaps } from './capture-programs';

export interface LeftoverEntry {
  map: BpfMap;
  key: Buffer;
  /** Keyed by cgroup or IP, the pod id is in the value: check it again before deleting. */
  idInValue: boolean;
}

export interface LeftoverPod {
  podId: number;
  cgroupIds: bigint[];
  entries: LeftoverEntry[];
}

/** Every pod id present in the capture maps, with the entries that carry it. */
export function scanLeftovers(maps: CaptureMaps): Map<number, LeftoverPod> {
  const pods = new Map<number, LeftoverPod>();
  const of = (podId: number): LeftoverPod => {
    let p = pods.get(podId);
    if (!p) pods.set(podId, (p = { podId, cgroupIds: [], entries: [] }));
    return p;
  };
  for (const key of maps.enrolled.keys()) {
    const v = maps.enrolled.lookup(key);
    if (!v) continue;
    const p = of(decodePod(v).podId);
    p.cgroupIds.push(decodeU64(key));
    p.entries.push({ map: maps.enrolled, key, idInValue: true });
  }
  for (const key of maps.podIps.keys()) {
    const v = maps.podIps.lookup(key);
    if (v) of(decodePod(v).podId).entries.push({ map: maps.podIps, key, idInValue: true });
  }
  for (const key of maps.bypassPorts.keys()) of(podIdOfPortKey(key)).entries.push({ map: maps.bypassPorts, key, idInValue: false });
  for (const key of maps.bypassCidrs.keys()) of(podIdOfCidrKey(key)).entries.push({ map: maps.bypassCidrs, key, idInValue: false });
  return pods;
}

/**
 * Deletes the leftover's entries, except keys in `readoptedKeys` (rewritten by the pod that
 * re-adopted the id; its listener slots are then that pod's too) and entries that meanwhile belong
 * to another pod (its IP reused). Otherwise also empties its listener slots (normally empty
 * already: the kernel drops a closed socket from the sockmap).
 */
export function removeLeftover(maps: CaptureMaps, pod: LeftoverPod, readoptedKeys?: ReadonlySet<string>): number {
  const keep = readoptedKeys ?? new Set<string>();
  let removed = 0;
  for (const e of pod.entries) {
    if (keep.has(entryKey(e.map, e.key))) continue;
    if (e.idInValue) {
      const v = e.map.lookup(e.key);
      if (!v || decodePod(v).podId !== pod.podId) continue;
    }
    if (deleteQuietly(e.map, e.key)) removed++;
  }
  if (!readoptedKeys) {
    for (let slot = 0; slot < Abi.AMBIT_SLOTS_PER_POD; slot++) {
      deleteQuietly(maps.listeners, encodeU32(pod.podId * Abi.AMBIT_SLOTS_PER_POD + slot));
    }
  }
  return removed;
}

/** Identifies one map entry across lookups. */
export const entryKey = (map: BpfMap, key: Buffer): string => `${map.info().name}/${key.toString('hex')}`;

/** An entry already gone (ENOENT; EINVAL for an empty sockmap slot) is not an error. */
function deleteQuietly(map: BpfMap, key: Buffer): boolean {
  try {
    return map.delete(key);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL') return false;
    throw e;
  }
}
