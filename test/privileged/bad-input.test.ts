/**
 * Bad input that needs a loaded object or real cgroups: every mistake is an
 * error shaped like Node's SystemError (or an AmbitError for Ambit-level
 * rules) that names what was wrong — never a crash, never a half-attached
 * program. The unprivileged cases live in test/native/addon-errors.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureDatapath } from '../../agent/capture/capture-programs';
import { Native, type BpfObject } from '../../common/native/addon';
import { ErrorCodes } from '../../common/errors';
import { findCgroup2Mount } from '../../common/cgroup2';
import { createMesh, requirePrivileged, type Mesh } from '../harness';
import { cgroupPrograms } from './bpf-inspect';

jest.setTimeout(60_000);

describe('bad input to the capture datapath', () => {
  let mesh: Mesh;
  let obj: BpfObject;
  let tmpFile: string;

  beforeAll(async () => {
    requirePrivileged();
    mesh = await createMesh({ nodes: 1 });
    obj = Native.openObject();
    await obj.load();
    tmpFile = path.join(os.tmpdir(), `ambit-bad-input-${process.pid}`);
    fs.writeFileSync(tmpFile, 'not a namespace');
  });

  afterAll(async () => {
    obj?.close();
    fs.rmSync(tmpFile, { force: true });
    await mesh?.destroy();
  });

  it('names a cgroup that does not exist', () => {
    const missing = path.join(mesh.cgroupRoot, 'no-such-cgroup');
    expect(() => obj.program('ambit_connect4').attachCgroup(missing)).toThrow(
      expect.objectContaining({
        code: 'ENOENT',
        errno: -2,
        syscall: 'open',
        path: missing,
        message: expect.stringContaining('does not exist; create the cgroup first'),
      }),
    );
  });

  it('refuses a directory that is not a cgroup v2 directory', () => {
    expect(() => obj.program('ambit_connect4').attachCgroup(os.tmpdir())).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('is not a cgroup v2 directory') }),
    );
  });

  it('refuses an fd that is not a network namespace', () => {
    const fd = fs.openSync(tmpFile, 'r');
    try {
      expect(() => obj.program('ambit_sk_lookup').attachNetns(fd)).toThrow(
        expect.objectContaining({ code: 'EINVAL', syscall: 'ioctl', message: expect.stringContaining('is not a network namespace') }),
      );
    } finally {
      fs.closeSync(fd);
    }
  });

  it('rejects a map key of the wrong size with both sizes in the message', () => {
    const map = obj.map('enrolled');
    expect(() => map.lookup(Buffer.alloc(7))).toThrow(
      expect.objectContaining({
        code: 'EINVAL',
        syscall: 'bpf_map_lookup_elem',
        message: expect.stringContaining("key is 7 bytes but the map's key is 8 bytes"),
      }),
    );
    expect(() => map.update(Buffer.alloc(8), Buffer.alloc(3))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('rejects a file that is not a socket in the listeners sockmap', () => {
    const fd = fs.openSync(tmpFile, 'r');
    const value = Buffer.alloc(8);
    value.writeBigUInt64LE(BigInt(fd));
    try {
      expect(() => obj.map('listeners').update(Buffer.alloc(4), value)).toThrow(
        expect.objectContaining({ syscall: 'bpf_map_update_elem', code: expect.stringMatching(/^E[A-Z]+$/) }),
      );
    } finally {
      fs.closeSync(fd);
    }
  });

  it('refuses to load an object twice', async () => {
    await expect(obj.load()).rejects.toMatchObject({ code: 'EALREADY', syscall: 'bpf_object__load' });
  });

  it("refuses the machine's root cgroup and attaches nothing there", async () => {
    const root = findCgroup2Mount();
    const before = cgroupPrograms(root).length;
    await expect(CaptureDatapath.load({ cgroupRoot: root })).rejects.toMatchObject({
      code: ErrorCodes.ROOT_CGROUP,
      message: expect.stringContaining("refusing to attach capture programs to the machine's root cgroup"),
    });
    expect(cgroupPrograms(root).length).toBe(before);
  });

  it('names a cgroup root that does not exist', async () => {
    await expect(CaptureDatapath.load({ cgroupRoot: '/sys/fs/cgroup/ambit-does-not-exist' })).rejects.toMatchObject({
      code: ErrorCodes.BPF_ATTACH,
      message: expect.stringContaining('does not exist'),
    });
  });

  it('names a missing eBPF object file and leaves the cgroup untouched', async () => {
    const cg = mesh.nodes[0].cgroupPath;
    await expect(CaptureDatapath.load({ cgroupRoot: cg, objectPath: '/nonexistent/ambit.bpf.o' })).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'bpf_object__open_file',
      message: expect.stringContaining('npm run build'),
    });
    expect(cgroupPrograms(cg)).toEqual([]);
  });
});
