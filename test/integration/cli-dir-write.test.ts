// cli/cluster/dir-write.ts: how the CLI writes into the user's YAML directory (ambit label,
// ambit waypoint on the local runtime). A write is atomic (temporary file, rename): a short write
// is finished and a failure leaves the user's file as it was; the file keeps its mode, and a
// symlink stays a symlink. Real files in a temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDirectoryFile } from '../../cli/cluster/dir-write';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-dir-write-'));
});

afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const OLD = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n';
const NEW = `${OLD}  labels:\n    istio.io/dataplane-mode: ambient\n`;
const leftovers = (): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('.'));

describe('writeDirectoryFile', () => {
  it('replaces an existing file by rename (a new inode), keeping its mode; creates a new one 0644; leaves no temporary file', () => {
    const file = path.join(dir, 'shop.yaml');
    fs.writeFileSync(file, OLD, { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    const before = fs.statSync(file);
    writeDirectoryFile(file, NEW);
    const after = fs.statSync(file);
    expect(fs.readFileSync(file, 'utf8')).toBe(NEW);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o7777).toBe(0o640);
    expect(after.uid).toBe(before.uid);

    const created = path.join(dir, 'ambit-ns-guest.yaml');
    writeDirectoryFile(created, OLD);
    expect(fs.readFileSync(created, 'utf8')).toBe(OLD);
    expect(fs.statSync(created).mode & 0o7777).toBe(0o644);
    expect(leftovers()).toEqual([]);
  });

  it('regression: short writes are continued (the old in-place write left half the new text over the old)', () => {
    const file = path.join(dir, 'shop.yaml');
    fs.writeFileSync(file, OLD);
    const real = fs.writeSync;
    // At most 7 bytes per call, as a signal-interrupted or quota-limited write may do.
    jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buf: Buffer, off: number, len: number) =>
      real(fd, buf, off, Math.min(len, 7))) as unknown as typeof fs.writeSync);
    writeDirectoryFile(file, NEW);
    expect(fs.readFileSync(file, 'utf8')).toBe(NEW);
  });

  it('regression: a write that fails midway (a full disk) leaves the user\'s file as it was and no temporary file', () => {
    const file = path.join(dir, 'shop.yaml');
    fs.writeFileSync(file, OLD);
    const real = fs.writeSync;
    let calls = 0;
    jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buf: Buffer, off: number, len: number) => {
      if (++calls > 1) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real(fd, buf, off, Math.min(len, 10));
    }) as unknown as typeof fs.writeSync);
    expect(() => writeDirectoryFile(file, NEW)).toThrow(/ENOSPC/);
    expect(fs.readFileSync(file, 'utf8')).toBe(OLD);
    expect(leftovers()).toEqual([]);
  });

  it('a symlinked file: its target is replaced, the link stays', () => {
    fs.mkdirSync(path.join(dir, 'shared'));
    const target = path.join(dir, 'shared', 'shop.yaml');
    fs.writeFileSync(target, OLD);
    const link = path.join(dir, 'shop.yaml');
    fs.symlinkSync(path.join('shared', 'shop.yaml'), link);
    writeDirectoryFile(link, NEW);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe(NEW);
  });
});
