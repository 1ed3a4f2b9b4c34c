// Writing into a user's YAML directory, which the local runtime watches.
//
// Every write, of a new file or over an existing one, is atomic: the text goes to a temporary
// file in the same directory, is flushed to disk, and the temporary file is renamed over the
// target. A crash, a full disk or a short write leaves the old file or the new one, never a torn
// or empty one (an empty file would mean "all its objects are gone"). The temporary name starts
// with "." so the source never reads it. The runtime sees the rename: its source watches each
// directory, not each file's inode (control-plane/sources/yaml/debounced-watcher.ts), so a file
// replaced by rename stays watched — as it must for editors, which save the same way.
//
// A rewritten file keeps its mode and owner; a new one gets 0644 and the directory's owner, so a
// file written with sudo stays the user's to edit. A symlink is followed: its target is replaced,
// the link stays.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Writes all of `data` to `fd`: a short write is continued, not silently dropped. */
function writeAll(fd: number, data: Buffer, file: string): void {
  let done = 0;
  while (done < data.length) {
    const n = fs.writeSync(fd, data, done, data.length - done);
    if (n <= 0) throw Object.assign(new Error(`writing ${file} made no progress (${done} of ${data.length} bytes)`), { code: 'EIO' });
    done += n;
  }
}

/** Makes the rename itself durable; a directory that cannot be opened or synced (some filesystems) is left as is. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch {
    // EINVAL on filesystems that do not sync directories: the rename is still atomic
  } finally {
    fs.closeSync(fd);
  }
}

export function writeDirectoryFile(file: string, text: string): void {
  let target = file;
  let existing: fs.Stats | undefined;
  try {
    target = fs.realpathSync(file);
    existing = fs.statSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const dir = path.dirname(target);
  const owner = existing ?? fs.statSync(dir);
  const mode = existing ? existing.mode & 0o7777 : 0o644; // not left to the umask
  const tmp = path.join(dir, `.${path.basename(target)}.ambit-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined = fs.openSync(tmp, 'wx', 0o600); // exclusive: never someone else's file
  try {
    writeAll(fd, Buffer.from(text, 'utf8'), tmp);
    fs.fchmodSync(fd, mode);
    try {
      fs.fchownSync(fd, owner.uid, owner.gid);
    } catch {
      // Not root: the file is ours already.
    }
    fs.fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    fs.closeSync(closing);
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  syncDirectory(dir);
}
