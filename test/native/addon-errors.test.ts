// Bad input at the native boundary gives a SystemError-shaped error with a useful message,
// never a crash (STYLE.md items 5 and 6). Nothing here loads a program into the kernel.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { types } from 'util';
import { AmbitError, ErrorCodes, SystemErrorShape } from '../../common/errors';
import { DefaultKnobs, encodeKnobs, encodePortKey, Layout } from '../../common/native/abi';
import { bpfObjectPath, BpfObject, Native } from '../../common/native/addon';

const PROGRAMS = ['ambit_connect4', 'ambit_connect6', 'ambit_sockops', 'ambit_sk_lookup', 'ambit_bind4', 'ambit_bind6', 'ambit_sk_msg'];
const MAPS = ['enrolled', 'pod_ips', 'bypass_ports', 'bypass_cidrs', 'orig_dst_by_cookie', 'orig_dst', 'listeners', 'stats'];

let dir: string;
const objects: BpfObject[] = [];
const fds: number[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-addon-errors-'));
});

afterEach(() => {
  for (const o of objects.splice(0)) o.close();
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(file: string = bpfObjectPath()): BpfObject {
  const o = Native.openObject(file);
  objects.push(o);
  return o;
}

function openFd(file: string): number {
  const fd = fs.openSync(file, 'r');
  fds.push(fd);
  return fd;
}

/** What `fn` threw (or its promise rejected with); fails the test if it succeeded. */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

// Errors made by the addon belong to Node's main realm, not to the jest sandbox's, so
// `instanceof Error` (and errors.ts isSystemError) is false here: check the shape instead.
const isError = (e: unknown, name = 'Error'): boolean => types.isNativeError(e) && e.name === name;

/** What `fn` threw, asserting it is a Node-style SystemError. */
async function systemError(fn: () => unknown): Promise<SystemErrorShape> {
  const e = await failure(fn);
  expect(isError(e)).toBe(true);
  const se = e as SystemErrorShape;
  expect([typeof se.code, typeof se.errno, typeof se.syscall]).toEqual(['string', 'number', 'string']);
  expect(se.errno).toBeLessThan(0);
  expect(se.message.startsWith(`${se.code}: `)).toBe(true);
  return se;
}

describe('opening an eBPF object', () => {
  it('a missing file: ENOENT with the path and the build command', async () => {
    const missing = path.join(dir, 'missing.bpf.o');
    const e = await systemError(() => open(missing));
    expect(e).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'bpf_object__open_file', path: missing });
    expect(e.message).toContain(missing);
    expect(e.message).toContain('npm run build:native');
  });

  it('a text file: a coded error that asks whether it is a BPF ELF, with libbpf’s reason', async () => {
    const text = path.join(dir, 'not-elf.bpf.o');
    fs.writeFileSync(text, 'this is not an ELF object\n');
    const e = await systemError(() => open(text));
    expect(e).toMatchObject({ syscall: 'bpf_object__open_file', path: text });
    expect(e.code).toMatch(/^E[A-Z]+$/);
    expect(e.message).toMatch(/cannot open eBPF object .*not-elf\.bpf\.o; is it an ELF file/);
    expect(e.details).toMatch(/not a proper ELF object/);
  });

  it('an empty file and a directory are refused the same way', async () => {
    const empty = path.join(dir, 'empty.bpf.o');
    fs.writeFileSync(empty, '');
    expect(await systemError(() => open(empty))).toMatchObject({ path: empty, syscall: 'bpf_object__open_file' });
    expect(await systemError(() => open(dir))).toMatchObject({ path: dir, syscall: 'bpf_object__open_file' });
  });

  it('lists its programs and maps without loading', () => {
    const o = open();
    expect(o.loaded).toBe(false);
    expect(o.closed).toBe(false);
    expect(o.path).toBe(bpfObjectPath());
    expect(o.programNames()).toEqual(expect.arrayContaining(PROGRAMS));
    expect(o.mapNames()).toEqual(expect.arrayContaining(MAPS));
    expect(o.program('ambit_connect4')).toMatchObject({ name: 'ambit_connect4', section: 'cgroup/connect4' });
  });
});

describe('looking up programs, maps and globals', () => {
  it("program('nope'): ENOENT listing the programs it has", async () => {
    const e = await systemError(() => open().program('nope'));
    expect(e).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'bpf_object__find_program_by_name' });
    expect(e.message).toContain("no program 'nope'");
    for (const p of PROGRAMS) expect(e.message).toContain(p);
  });

  it("map('nope'): ENOENT listing the maps it has", async () => {
    const e = await systemError(() => open().map('nope'));
    expect(e).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'bpf_object__find_map_by_name' });
    expect(e.message).toContain("no map 'nope'");
    for (const m of MAPS) expect(e.message).toContain(m);
  });

  it("setGlobal('knobs', wrong size): EINVAL naming both sizes", async () => {
    const e = await systemError(() => open().setGlobal('knobs', Buffer.alloc(3)));
    expect(e).toMatchObject({ code: 'EINVAL', errno: -22 });
    expect(e.message).toContain(`'knobs' is ${Layout.ambit_knobs.size} bytes, got 3`);
  });

  it("setGlobal('no_such_var'): ENOENT naming the variable", async () => {
    const e = await systemError(() => open().setGlobal('no_such_var', encodeKnobs(DefaultKnobs)));
    expect(e).toMatchObject({ code: 'ENOENT', errno: -2 });
    expect(e.message).toContain("'no_such_var'");
  });
});

describe('before load and after close', () => {
  it('map operations before load: EBADF saying to await load()', async () => {
    const o = open();
    const m = o.map('bypass_ports');
    const key = encodePortKey(1, 80, 0);
    const ops: Array<[string, () => unknown]> = [
      ['bpf_map_lookup_elem', () => m.lookup(key)],
      ['bpf_map_update_elem', () => m.update(key, Buffer.from([1]))],
      ['bpf_map_delete_elem', () => m.delete(key)],
      ['bpf_map_get_next_key', () => m.keys()],
    ];
    for (const [syscall, op] of ops) {
      const e = await systemError(op);
      expect(e).toMatchObject({ code: 'EBADF', errno: -9, syscall });
      expect(e.message).toContain("map 'bypass_ports' is not loaded; await object.load() first");
    }
    // The map's description needs no kernel.
    expect(m.info()).toMatchObject({ name: 'bypass_ports', fd: -1, pinned: false });
  });

  it("a program's fd before load: EBADF", async () => {
    const e = await systemError(() => open().program('ambit_sockops').fd);
    expect(e).toMatchObject({ code: 'EBADF' });
    expect(e.message).toContain('await object.load() first');
  });

  it('close() twice is fine; everything after it is EBADF, also through handles taken before', async () => {
    const o = open();
    const m = o.map('enrolled');
    o.close();
    o.close();
    expect(o.closed).toBe(true);
    const ops: Array<() => unknown> = [
      () => o.program('ambit_connect4'),
      () => o.map('enrolled'),
      () => o.programNames(),
      () => o.mapNames(),
      () => o.setGlobal('knobs', encodeKnobs(DefaultKnobs)),
      () => m.lookup(Buffer.alloc(8)),
      () => m.info(),
    ];
    for (const op of ops) {
      const e = await systemError(op);
      expect(e).toMatchObject({ code: 'EBADF', errno: -9, path: bpfObjectPath() });
      expect(e.message).toContain('is closed');
    }
    // load() is awaited by its callers, so it rejects rather than throws.
    let load: Promise<void> | undefined;
    expect(() => (load = o.load())).not.toThrow();
    await expect(load).rejects.toMatchObject({ code: 'EBADF', syscall: 'bpf_object__load' });
  });
});

describe('namespace and socket fds', () => {
  it('checkNetnsFd accepts a network namespace', () => {
    expect(() => Native.checkNetnsFd(openFd('/proc/self/ns/net'))).not.toThrow();
  });

  it('checkNetnsFd on a regular file: EINVAL "is not a network namespace"', async () => {
    const file = path.join(dir, 'regular');
    fs.writeFileSync(file, 'x');
    const fd = openFd(file);
    const e = await systemError(() => Native.checkNetnsFd(fd));
    expect(e).toMatchObject({ code: 'EINVAL', errno: -22 });
    expect(e.message).toContain(`fd ${fd} is not a network namespace`);
  });

  it('checkNetnsFd on another kind of namespace: EINVAL', async () => {
    const e = await systemError(() => Native.checkNetnsFd(openFd('/proc/self/ns/uts')));
    expect(e).toMatchObject({ code: 'EINVAL' });
    expect(e.message).toContain('is not a network namespace');
  });

  it('checkNetnsFd(9999), a closed fd: EBADF', async () => {
    const e = await systemError(() => Native.checkNetnsFd(9999));
    expect(e).toMatchObject({ code: 'EBADF', errno: -9 });
    expect(e.message).toContain('fd 9999 is not an open file descriptor');
  });

  it('netnsCookie on a regular file: EINVAL, not a cookie', async () => {
    const file = path.join(dir, 'regular');
    fs.writeFileSync(file, 'x');
    const e = await systemError(() => Native.netnsCookie(openFd(file)));
    expect(e).toMatchObject({ code: 'EINVAL' });
  });

  it('socketInfo on a regular file: ENOTSOCK; on a closed fd: EBADF', async () => {
    const file = path.join(dir, 'regular');
    fs.writeFileSync(file, 'x');
    const fd = openFd(file);
    const e = await systemError(() => Native.socketInfo(fd));
    expect(e).toMatchObject({ code: 'ENOTSOCK', errno: -88, syscall: 'getsockopt' });
    expect(e.message).toContain(`fd ${fd} is not an open socket`);
    expect(await systemError(() => Native.socketInfo(9999))).toMatchObject({ code: 'EBADF', syscall: 'getsockopt' });
  });
});

describe('arguments are validated in TypeScript before they cross', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['family 5', { family: 5 }, /family must be 4 or 6, got 5/],
    ['no family', {}, /family must be 4 or 6, got undefined/],
    ['a hostname', { family: 4, address: 'localhost' }, /address localhost is not an IPv4 address/],
    ['an IPv6 address for family 4', { family: 4, address: '::1' }, /is not an IPv4 address/],
    ['an IPv4 address for family 6', { family: 6, address: '127.0.0.1' }, /is not an IPv6 address/],
    ['port 65536', { family: 4, port: 65536 }, /port must be an integer 0\.\.65535, got 65536/],
    ['port -1', { family: 4, port: -1 }, /port must be an integer/],
    ['port 1.5', { family: 4, port: 1.5 }, /port must be an integer/],
    ['netnsFd -1', { family: 4, netnsFd: -1 }, /netnsFd must be a file descriptor/],
  ])('createSocket with %s: AMBIT_ERR_INVALID_ARGUMENT', async (_, options, message) => {
    const e = await failure(() => Native.createSocket(options as never));
    expect(e).toBeInstanceOf(AmbitError);
    expect(e).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, message: expect.stringMatching(message) });
  });

  it.each<[string, () => unknown]>([
    ['netnsCookie(-1)', () => Native.netnsCookie(-1)],
    ['netnsCookie(1.5)', () => Native.netnsCookie(1.5)],
    ['socketInfo(NaN)', () => Native.socketInfo(NaN)],
    ["checkNetnsFd('3')", () => Native.checkNetnsFd('3' as never)],
  ])('%s: AMBIT_ERR_INVALID_ARGUMENT', async (_, call) => {
    expect(await failure(call)).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, name: 'AmbitError' });
  });
});

describe('the binding re-checks argument types', () => {
  // Reached through objects the TS layer returns: the raw classes, no TS checks in between.
  it.each<[string, (o: BpfObject) => unknown, RegExp]>([
    ['program(42)', (o) => (o as any).program(42), /'name' must be a string/],
    ['map()', (o) => (o as any).map(), /'name' must be a string/],
    ["setGlobal('knobs', 'text')", (o) => (o as any).setGlobal('knobs', 'text'), /'value' must be a Buffer/],
    ["map.lookup('key')", (o) => (o.map('enrolled') as any).lookup('key'), /'key' must be a Buffer/],
    ["map.update(key, 1, 'x')", (o) => (o.map('enrolled') as any).update(Buffer.alloc(8), Buffer.alloc(8), 'x'), /'flags' must be a number/],
    ['program.attachCgroup(7)', (o) => (o.program('ambit_connect4') as any).attachCgroup(7), /'cgroupPath' must be a string/],
    ['new BpfObject(42)', (o) => new (o.constructor as any)(42), /'path' must be a string/],
    ['new BpfProgram()', (o) => new (o.program('ambit_bind4').constructor as any)(), /created by BpfObject\.program/],
    ['new BpfMap({}, {})', (o) => new (o.map('stats').constructor as any)({}, {}), /created by BpfObject\.map/],
  ])('%s: TypeError ERR_INVALID_ARG_TYPE', async (_, call, message) => {
    const e = await failure(() => call(open()));
    expect(isError(e, 'TypeError')).toBe(true);
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(message) });
  });
});
