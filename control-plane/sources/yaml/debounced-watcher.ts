/**
 * fs.watch over a directory tree, debounced into batches of changed relative paths. Editors save
 * in bursts (write temp, rename over, chmod) and `kubectl cp`/`git checkout` touch many files; one
 * batch per burst means one reload. A cap on the wait keeps a steady stream of writes from
 * postponing a reload forever.
 */
import fs from 'node:fs';

export interface ChangeBatch {
  /** Relative paths reported changed (files or directories, existing or not). */
  readonly paths: Set<string>;
  /** Re-examine everything (the watcher could not say what changed). */
  readonly all: boolean;
}

export class DebouncedWatcher {
  private watcher?: fs.FSWatcher;
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
  ) {
    this.maxWaitMs = Math.max(5 * debounceMs, 200);
  }

  /** Throws what fs.watch throws (ENOENT, EACCES, ENOSPC for inotify limits). */
  start(): void {
    this.watcher = fs.watch(this.dir, { recursive: true }, (_event, filename) => this.record(filename));
    this.watcher.on('error', (err) => this.onError(err));
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.paths.clear();
    this.all = false;
  }

  private record(filename: string | null): void {
    if (this.watcher === undefined) return;
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
