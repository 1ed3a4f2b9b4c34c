// common/native/abi.ts against ambit_abi.h as the C compiler laid it out: the addon's
// abiLayout() reports sizeof/offsetof from the header, so a struct edited on one side
// only (ambit_abi.h is append-only, STYLE.md item 7) fails here instead of in the kernel.
import { Abi, DefaultKnobs, encodeKnobs, Layout } from '../../common/native/abi';
import { AbiLayout, BpfObject, Native } from '../../common/native/addon';

let native: AbiLayout;

beforeAll(() => {
  native = Native.abiLayout();
});

describe('structs', () => {
  it('the header and abi.ts describe the same set of structs', () => {
    const header = Object.keys(native.structs).sort();
    expect(header.length).toBeGreaterThan(0);
    // abi.ts has no struct the header lacks, and mirrors every one it reports.
    expect(Object.keys(Layout).sort()).toEqual(header);
  });

  it.each(Object.keys(Layout))('%s has the size the compiler gives it', (name) => {
    expect(native.structs[name]).toBeDefined();
    expect(Layout[name].size).toBe(native.structs[name].size);
  });

  it.each(Object.keys(Layout))('%s has every field at the compiler offset and size', (name) => {
    const c = native.structs[name];
    expect(c).toBeDefined();
    // Same field names on both sides (padding is left out on both).
    expect(Object.keys(Layout[name].fields).sort()).toEqual(Object.keys(c.fields).sort());
    for (const [field, want] of Object.entries(c.fields)) {
      expect({ field, ...Layout[name].fields[field] }).toEqual({ field, offset: want.offset, size: want.size });
    }
  });

  it('reports plain numbers the test can trust (no NaN, no negative sizes)', () => {
    for (const s of Object.values(native.structs)) {
      expect(Number.isInteger(s.size) && s.size > 0).toBe(true);
      for (const f of Object.values(s.fields)) {
        expect(Number.isInteger(f.offset) && f.offset >= 0).toBe(true);
        expect(Number.isInteger(f.size) && f.size > 0).toBe(true);
      }
    }
  });
});

describe('constants', () => {
  it('the header and abi.ts define the same constants', () => {
    const header = Object.keys(native.constants).sort();
    expect(header.length).toBeGreaterThan(0);
    expect(Object.keys(Abi).sort()).toEqual(header);
  });

  it.each(Object.keys(Abi))('%s has the value of the header', (name) => {
    expect(native.constants[name]).toBe(Abi[name as keyof typeof Abi]);
  });

  it('keeps counters inside the stats array', () => {
    for (const [name, value] of Object.entries(native.constants)) {
      if (name.startsWith('AMBIT_CNT_') && name !== 'AMBIT_CNT_MAX') {
        expect({ name, inside: value < native.constants.AMBIT_CNT_MAX }).toEqual({ name, inside: true });
      }
    }
  });
});

// The compiled object (opened, not loaded: nothing reaches the kernel) declares its maps and
// knobs with the header's types, so their sizes are the struct sizes abi.ts encodes.
describe('the eBPF object uses the header', () => {
  let obj: BpfObject;

  beforeAll(() => {
    obj = Native.openObject();
  });

  afterAll(() => {
    obj?.close();
  });

  it.each<[string, number, number, number]>([
    ['enrolled', 8, Layout.ambit_pod.size, Abi.AMBIT_MAX_PODS],
    ['pod_ips', Layout.ambit_ip_key.size, Layout.ambit_pod.size, Abi.AMBIT_MAX_PODS * 2],
    ['bypass_ports', Layout.ambit_port_key.size, 1, 65536],
    ['bypass_cidrs', Layout.ambit_cidr_key.size, 1, 16384],
    ['orig_dst_by_cookie', 8, Layout.ambit_orig_dst.size, 262144],
    ['orig_dst', Layout.ambit_flow_key.size, Layout.ambit_orig_dst.size, 262144],
    ['listeners', 4, 8, Abi.AMBIT_MAX_PODS * Abi.AMBIT_SLOTS_PER_POD],
    ['stats', 4, 8, Abi.AMBIT_CNT_MAX],
    ['dns_orig_dst', 8, Layout.ambit_orig_dst.size, Abi.AMBIT_MAX_DNS_SOCKETS],
  ])('map %s: key %d bytes, value %d bytes, %d entries', (name, keySize, valueSize, maxEntries) => {
    expect(obj.map(name).info()).toMatchObject({ name, keySize, valueSize, maxEntries });
  });

  it('takes encodeKnobs() output as the knobs global', () => {
    expect(() => obj.setGlobal('knobs', encodeKnobs(DefaultKnobs))).not.toThrow();
  });
});
