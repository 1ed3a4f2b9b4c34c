/**
 * fs.watch over a directory tree, debounced into batches of changed relative paths. Editors save
 * in bursts (write temp, rename over, chmod) and `kubectl cp`/`git checkout` touch many files; one
 * batch per burst means one reload. A cap on the wait keeps a steady stream of writes from
 * postponing a reload forever.
 *
 * One non-recursive watch per directory rather than `{recursive: true}`: on Linux, Node 20's
 * recursive mode watches each file's inode, so after a file is replaced by rename (how editors
 * and `kubectl cp` save) later edits of it went unseen. A directory watch reports every entry's
 * writes, creations and renames whatever the inode.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ChangeBatch {
  /** Relative paths reported changed (files or directories, existing or not). */
  readonly paths: Set<string>;
  /** Re-examine everything (the watcher could not say what changed). */
  readonly all: boolean;
}

export class DebouncedWatcher {
  /** Relative directory ('' = the root) -> its watch. */
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private started = false;
  private timer?: NodeJS.Timeout;
  private firstEventAt = 0;
  private paths = new Set<string>();
  private all = false;
  private readonly maxWaitMs: number;

  constructor(
    private readonly dir: string,
    private readonly debounceMs: number,
    private readonly onBatch: (batch: ChangeBatch) => void,
    private readonly onError: (err: Error) => void,
    /** A subdirectory that cannot be watched (EACCES, ENOSPC): the rest keeps being watched. */
    private readonly onSubdirectoryError: (dir: string, err: Error) => void = () => {},
  ) {
    this.maxWaitMs = Math.max(5 * debounceMs, 200);
  }

  /** Throws what fs.watch throws (ENOENT, EACCES, ENOSPC for inotify limits). */
  start(): void {
    this.started = true;
    this.watchTree('');
  }

  close(): void {
    this.started = false;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.paths.clear();
    this.all = false;
  }

  /** Watches `rel` and the directories under it; the root's errors are thrown, a subdirectory's reported apart. */
  private watchTree(rel: string): void {
    if (this.watchers.has(rel)) return;
    const abs = path.join(this.dir, rel);
    const watcher = fs.watch(abs, (_event, name) => {
      const changed = name === null || name === '' ? null : rel === '' ? name : path.join(rel, name);
      this.record(changed);
      if (changed !== null) this.followDirectory(changed);
    });
    watcher.on('error', (err) => {
      this.unwatch(rel);
      if (rel === '') this.onError(err);
      // A subdirectory removed under its watch is an ordinary change, already recorded.
      else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onSubdirectoryError(rel, err);
    });
    this.watchers.set(rel, watcher);
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      // "..data"-style entries are a ConfigMap volume's internals; their swap is seen at the root.
      if (entry.isDirectory() && !entry.name.startsWith('..')) this.followDirectory(path.join(rel, entry.name));
    }
  }

  /** A changed entry that is (now) a directory gets a watch; one that is gone loses its watches. */
  private followDirectory(rel: string): void {
    if (!this.started || rel.split(path.sep).some((s) => s.startsWith('..'))) return;
    let isDir = false;
    try {
      isDir = fs.statSync(path.join(this.dir, rel)).isDirectory();
    } catch {
      // gone
    }
    if (!isDir) {
      for (const key of [...this.watchers.keys()]) if (key === rel || key.startsWith(rel + path.sep)) this.unwatch(key);
      return;
    }
    try {
      this.watchTree(rel);
    } catch (err) {
      this.unwatch(rel);
      // Removed again before it could be watched: the removal is recorded by its parent.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onSubdirectoryError(rel, err as Error);
    }
  }

  private unwatch(rel: string): void {
    this.watchers.get(rel)?.close();
    this.watchers.delete(rel);
  }

  private record(filename: string | null): void {
    if (!this.started) return;
    // Kubernetes ConfigMap volumes update by swapping the "..data" symlink: the visible file names
    // do not change, so such an event means "look at everything again".
    if (filename === null || filename === '' || filename.split(/[\\/]/).some((s) => s.startsWith('..'))) this.all = true;
    else this.paths.add(filename);
    const now = Date.now();
    if (this.timer === undefined) this.firstEventAt = now;
    else clearTimeout(this.timer);
    const wait = Math.min(this.debounceMs, Math.max(0, this.firstEventAt + this.maxWaitMs - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const batch: ChangeBatch = { paths: this.paths, all: this.all };
    this.paths = new Set();
    this.all = false;
    this.onBatch(batch);
  }
}
