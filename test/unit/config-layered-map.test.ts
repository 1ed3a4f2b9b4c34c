// common/config-client/layered-map.ts and applyResponse: deltas layered over the previous map must
// read exactly like a copied-and-edited Map, and must never change a map handed out before.
import { LayeredMap } from '../../common/config-client/layered-map';
import { applyResponse, ResourceMap } from '../../common/config-client/resource-map';
import type { Resource__Output } from '../../common/proto/generated/ambit/v1/Resource';
import type { WatchResponse__Output } from '../../common/proto/generated/ambit/v1/WatchResponse';

/** Deterministic pseudo-random numbers (xorshift), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const same = <K, V>(actual: ReadonlyMap<K, V>, expected: ReadonlyMap<K, V>): void => {
  expect(actual.size).toBe(expected.size);
  expect([...actual]).toEqual([...expected]);
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  expect([...actual.values()]).toEqual([...expected.values()]);
  const seen: Array<[K, V]> = [];
  actual.forEach((v, k) => seen.push([k, v]));
  expect(seen).toEqual([...expected]);
};

describe('LayeredMap', () => {
  it('reads like a copied Map through many deltas, and leaves every earlier version intact', () => {
    const random = rng(42);
    let reference = new Map<string, number>();
    for (let i = 0; i < 200; i++) reference.set(`k${i}`, i);
    let current: ReadonlyMap<string, number> = new Map(reference);
    const history: Array<[ReadonlyMap<string, number>, Map<string, number>]> = [];
    for (let step = 0; step < 120; step++) {
      const set: Array<[string, number]> = [];
      const remove: string[] = [];
      for (let n = Math.floor(random() * 6); n > 0; n--) set.push([`k${Math.floor(random() * 260)}`, step * 1000 + n]);
      for (let n = Math.floor(random() * 4); n > 0; n--) remove.push(`k${Math.floor(random() * 260)}`);
      const next = new Map(reference);
      for (const [k, v] of set) next.set(k, v);
      for (const k of remove) next.delete(k);
      current = LayeredMap.apply(current, set, remove);
      reference = next;
      for (let probe = 0; probe < 270; probe += 7) {
        expect(current.get(`k${probe}`)).toBe(reference.get(`k${probe}`));
        expect(current.has(`k${probe}`)).toBe(reference.has(`k${probe}`));
      }
      expect([...current]).toEqual([...reference]);
      history.push([current, reference]);
    }
    for (const [map, expected] of history) same(map, expected);
  });

  it('stays shallow: a long run of one-key deltas is flattened every few steps', () => {
    let current: ReadonlyMap<string, number> = new Map(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i] as [string, number]));
    let layered = 0;
    for (let i = 0; i < 100; i++) {
      current = LayeredMap.apply(current, [[`k${i}`, -i]], []);
      if (current instanceof LayeredMap) layered++;
    }
    expect(layered).toBeGreaterThan(80);
    expect(layered).toBeLessThan(100);
    expect(current.get('k99')).toBe(-99);
  });

  it('removes after it sets, as Map.set then Map.delete would', () => {
    const m = LayeredMap.apply(new Map([['a', 1]]), [['b', 2]], ['b', 'a', 'missing']);
    expect([...m]).toEqual([]);
    expect(m.size).toBe(0);
  });
});

describe('applyResponse', () => {
  const workload = (uid: string, node: string): Resource__Output => ({ key: { type: 'WORKLOAD', name: uid }, workload: { uid, node } as never, kind: 'workload' });
  const response = (snapshot: boolean, added: Resource__Output[], removed: string[] = []): WatchResponse__Output => ({
    version: 'v',
    snapshot,
    added,
    updated: [],
    removed: removed.map((name) => ({ type: 'WORKLOAD', name })),
  });

  it('replaces everything on a snapshot and layers a delta without touching the previous map', () => {
    const first = applyResponse(new Map(), response(true, [workload('a', 'n1'), workload('b', 'n1')]));
    const second: ResourceMap = applyResponse(first, response(false, [workload('c', 'n2')], ['a']));
    expect([...first.keys()]).toEqual(['WORKLOAD:a', 'WORKLOAD:b']);
    expect([...second.keys()]).toEqual(['WORKLOAD:b', 'WORKLOAD:c']);
    const third = applyResponse(second, response(true, [workload('z', 'n3')]));
    expect([...third.keys()]).toEqual(['WORKLOAD:z']);
    expect(second.get('WORKLOAD:c')?.workload?.node).toBe('n2');
  });
});
