// Writing into a user's YAML directory, which the local runtime watches.
//
// An existing file is rewritten in place (same inode): Node 20's recursive fs.watch on Linux
// watches each file by inode, so a file replaced by rename (write temp, rename over) is not watched
// any more and the runtime would miss every later edit of it. The content is written over the old
// and then truncated, so the file is never empty in between (an empty file would mean "all its
// objects are gone"); a read that catches the instant between the two sees a YAML error, which the
// source ignores (it keeps the last good version) until the truncate's own event re-reads it.
//
// A new file appears at once, complete (temp file, then rename: a new name is picked up); its
// temporary name starts with "." so the source never reads it. It takes the directory's owner, so a
// file written with sudo stays the user's to edit.
import fs from 'node:fs';
import path from 'node:path';

function writeInPlace(file: string, text: string): void {
  const data = Buffer.from(text, 'utf8');
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.ftruncateSync(fd, data.length);
  } finally {
    fs.closeSync(fd);
  }
}

function writeNew(file: string, text: string): void {
  const owner = fs.statSync(path.dirname(file));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.ambit-${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.chmodSync(tmp, 0o644); // not left to the umask
    try {
      fs.chownSync(tmp, owner.uid, owner.gid);
    } catch {
      // Not root: the file is ours already.
    }
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export function writeDirectoryFile(file: string, text: string): void {
  if (fs.existsSync(file)) writeInPlace(file, text);
  else writeNew(file, text);
}
