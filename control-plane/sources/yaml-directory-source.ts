/**
 * A ConfigSource over a directory of Kubernetes YAML (what `ambit local` and tests use instead of a
 * cluster). Every *.yaml / *.yml file in the tree is read in path order; valid objects are
 * delivered, invalid documents become ConfigProblems while the last good version keeps being
 * served. fs.watch (recursive, debounced) triggers re-reads of just the changed files, and the sink
 * only hears about objects whose content actually changed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { silentLogger, type Logger } from '../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import type { ConfigProblem, ConfigSource, SourceSink } from './source';
import { DebouncedWatcher, type ChangeBatch } from './yaml/debounced-watcher';
import { readFileObjects } from './yaml/file-objects';
import { byPosition, nextEntries, type FileState } from './yaml/file-state';
import { comparePaths, isHiddenPath, isYamlFileName, listYamlFiles } from './yaml/list-yaml-files';
import { ProblemLog } from './yaml/problem-log';
import { diffServed, resolveServed, type ServedView } from './yaml/served-objects';

export interface YamlDirectorySourceOptions {
  dir: string;
  logger?: Logger;
  /** Quiet time after the last change event before re-reading (default 50 ms). */
  debounceMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 50;
/** How often to look for the directory again after it disappeared. */
const ROOT_POLL_MS = 1000;

const errnoText = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
const isUnder = (rel: string, dir: string): boolean => dir === '' || rel === dir || rel.startsWith(dir + path.sep);

export class YamlDirectorySource implements ConfigSource {
  readonly name: string;
  private readonly dir: string;
  private readonly debounceMs: number;
  private readonly logger: Logger;
  private readonly problemLog: ProblemLog;
  /** By path relative to dir. */
  private readonly files = new Map<string, FileState>();
  /** Directories that could not be listed, by relative path ("" = the root itself). */
  private readonly dirProblems = new Map<string, ConfigProblem>();
  private served: ServedView = new Map();
  private sink?: SourceSink;
  private watcher?: DebouncedWatcher;
  private rootPoll?: NodeJS.Timeout;
  private pending: { paths: Set<string>; all: boolean } = { paths: new Set(), all: false };
  private draining?: Promise<void>;
  private stopped = false;
  /** Bumped whenever a file's state changes; a reload that changed nothing reports nothing. */
  private changeCount = 0;
  /** The first full read is done; until then watch events only queue up. */
  private loaded = false;

  constructor(opts: YamlDirectorySourceOptions) {
    this.dir = path.resolve(opts.dir);
    this.name = `yaml:${this.dir}`;
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    if (!Number.isFinite(this.debounceMs) || this.debounceMs < 0) {
      throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, `debounceMs must be a number >= 0; got ${String(opts.debounceMs)}`);
    }
    this.logger = (opts.logger ?? silentLogger).child({ component: 'yaml-source', dir: this.dir });
    this.problemLog = new ProblemLog(this.logger);
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.sink !== undefined) throw new Error(`${this.name} was already started`);
    await this.checkRoot();
    // Watch before the first read, so an edit made while reading is not missed.
    this.startWatcher();
    this.sink = sink;
    try {
      await this.reload({ paths: new Set(), all: true }, true);
    } catch (e) {
      this.watcher?.close();
      throw new ControlPlaneError(ControlPlaneErrorCodes.SOURCE_UNAVAILABLE, `cannot read config directory ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
    if (this.stopped) return;
    sink.synced();
    this.loaded = true; // events seen during the first read are queued; handle them now
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.rootPoll !== undefined) clearInterval(this.rootPoll);
    await this.draining;
  }

  private async checkRoot(): Promise<void> {
    let stat;
    try {
      stat = await fs.stat(this.dir);
      if (stat.isDirectory()) await fs.access(this.dir, fs.constants.R_OK | fs.constants.X_OK);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${errnoText(e)})`;
      throw new ControlPlaneError(ControlPlaneErrorCodes.SOURCE_UNAVAILABLE, `config directory ${this.dir} ${why}; create it or point the control plane at another directory`, { cause: e });
    }
    if (!stat.isDirectory()) {
      throw new ControlPlaneError(ControlPlaneErrorCodes.SOURCE_UNAVAILABLE, `config directory ${this.dir} is not a directory; pass the directory that holds the YAML files`);
    }
  }

  private startWatcher(): void {
    const watcher = new DebouncedWatcher(this.dir, this.debounceMs, (batch) => this.enqueue(batch), (err) => {
      // The watch is dead (e.g. the directory was removed); the next reload re-establishes it.
      this.logger.warn({ err }, 'watching the config directory failed; looking at all files again');
      watcher.close();
      if (this.watcher === watcher) this.watcher = undefined;
      this.enqueue({ paths: new Set(), all: true });
    }, (dir, err) =>
      this.logger.warn(
        { err, dir: path.join(this.dir, dir) },
        'cannot watch a subdirectory of the config directory; the rest is watched, and its files are read again whenever everything is',
      ),
    );
    try {
      watcher.start();
    } catch (e) {
      throw new ControlPlaneError(ControlPlaneErrorCodes.SOURCE_UNAVAILABLE, `cannot watch config directory ${this.dir} (${errnoText(e)}); on Linux, ENOSPC means fs.inotify.max_user_watches is too low`, { cause: e });
    }
    this.watcher = watcher;
  }

  private enqueue(batch: ChangeBatch): void {
    for (const p of batch.paths) this.pending.paths.add(p);
    this.pending.all ||= batch.all;
    this.kick();
  }

  /** Runs queued reloads one at a time; a reload never overlaps another. */
  private kick(): void {
    if (this.draining !== undefined || !this.loaded || this.stopped) return;
    this.draining = (async () => {
      while (!this.stopped && (this.pending.all || this.pending.paths.size > 0)) {
        const batch = this.pending;
        this.pending = { paths: new Set(), all: false };
        try {
          await this.reload(batch, false);
        } catch (err) {
          this.logger.error({ err }, 'reloading the config directory failed; keeping the current objects');
        }
      }
    })().finally(() => {
      this.draining = undefined;
    });
  }

  private async reload(batch: ChangeBatch, initial: boolean): Promise<void> {
    if (!(await this.rootStillThere())) return;
    const before = this.changeCount;
    const toRead = new Set<string>();
    for (const under of batch.all ? [''] : []) await this.scan(under, toRead);
    for (const rel of batch.all ? [] : [...batch.paths].sort(comparePaths)) {
      if (isHiddenPath(rel)) continue; // editor temp files; ConfigMap "..data" swaps arrive as `all`
      const stat = await fs.stat(path.join(this.dir, rel)).catch(() => undefined);
      if (stat === undefined) this.forget((known) => isUnder(known, rel)); // a file or a whole directory was removed
      else if (stat.isDirectory()) await this.scan(rel, toRead).catch((err) => this.logger.debug({ err, rel }, 'directory vanished while listing'));
      else if (stat.isFile() && isYamlFileName(rel)) toRead.add(rel);
    }
    for (const rel of [...toRead].sort(comparePaths)) await this.readFile(rel);
    // Events for files that did not change (touch, non-YAML files) end here: nothing to report.
    if (initial || this.changeCount !== before) this.publish(initial);
  }

  /** Lists the YAML files under `under`, queues them for reading and forgets the ones that are gone. */
  private async scan(under: string, toRead: Set<string>): Promise<void> {
    const listing = await listYamlFiles(this.dir, under);
    const dirProblemsBefore = JSON.stringify([...this.dirProblems]);
    for (const dir of [...this.dirProblems.keys()]) if (isUnder(dir, under)) this.dirProblems.delete(dir);
    for (const { dir, error } of listing.unreadable) {
      this.dirProblems.set(dir, {
        severity: 'error',
        source: this.name,
        file: path.join(this.dir, dir),
        message: `cannot read directory (${errnoText(error)}); the objects last loaded from files below it stay in effect`,
      });
    }
    const present = new Set(listing.files);
    for (const rel of listing.files) toRead.add(rel);
    // Files below an unreadable directory are not known to be gone: keep them.
    const hidden = (rel: string): boolean => listing.unreadable.some((u) => isUnder(rel, u.dir));
    this.forget((known) => isUnder(known, under) && !present.has(known) && !hidden(known));
    if (JSON.stringify([...this.dirProblems]) !== dirProblemsBefore) this.changeCount++;
  }

  private forget(which: (rel: string) => boolean): void {
    for (const rel of [...this.files.keys()]) {
      if (!which(rel)) continue;
      this.files.delete(rel);
      this.changeCount++;
    }
  }

  private async readFile(rel: string): Promise<void> {
    const file = path.join(this.dir, rel);
    const state = this.files.get(rel) ?? { file, entries: [], problems: [] };
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') {
        this.forget((known) => known === rel); // gone between listing and reading (e.g. mid rename-save)
        return;
      }
      state.text = undefined;
      state.problems = [{ severity: 'error', source: this.name, file, message: `cannot read file (${errnoText(e)}); the objects last loaded from it stay in effect` }];
      this.files.set(rel, state);
      this.changeCount++;
      return;
    }
    if (text === state.text) return; // touched, not changed
    const read = readFileObjects(this.name, file, text);
    state.text = text;
    state.entries = nextEntries(state.entries, read);
    state.problems = read.problems;
    this.files.set(rel, state);
    this.changeCount++;
  }

  /** Recomputes what is served, delivers the delta and the full problem list. */
  private publish(initial: boolean): void {
    const order = [...this.files.keys()].sort(comparePaths).map((rel) => this.files.get(rel) as FileState);
    const { served, problems: duplicates } = resolveServed(order, this.name);
    const problems: ConfigProblem[] = [...this.dirProblems.values()];
    for (const state of order) {
      problems.push(...[...state.problems, ...duplicates.filter((d) => d.file === state.file)].sort(byPosition));
    }
    const changes = diffServed(this.served, served);
    this.served = served;
    if (this.stopped || this.sink === undefined) return;
    if (initial || changes.upsert.length > 0 || changes.remove.length > 0) {
      this.logger.debug({ upserts: changes.upsert.length, removals: changes.remove.length, objects: served.size }, 'config changed');
      this.sink.apply(changes);
    }
    this.problemLog.report(problems);
    this.sink.problems(problems);
  }

  /** If the directory itself vanished: keep serving, report it, and poll until it is back. */
  private async rootStillThere(): Promise<boolean> {
    const stat = await fs.stat(this.dir).catch(() => undefined);
    if (stat?.isDirectory()) {
      if (this.watcher === undefined && !this.stopped) {
        try {
          this.startWatcher();
        } catch (err) {
          this.logger.warn({ err }, 'cannot watch the config directory again; edits are not picked up');
        }
      }
      return true;
    }
    this.dirProblems.clear();
    this.dirProblems.set('', { severity: 'error', source: this.name, file: this.dir, message: 'config directory disappeared; the objects last loaded stay in effect until it is back' });
    this.watcher?.close();
    this.watcher = undefined;
    this.rootPoll ??= setInterval(() => void this.pollRoot(), ROOT_POLL_MS);
    this.publish(false);
    return false;
  }

  /** Once the directory is back, a full reload re-establishes the watch and clears the problem. */
  private async pollRoot(): Promise<void> {
    const stat = await fs.stat(this.dir).catch(() => undefined);
    if (this.stopped || !stat?.isDirectory()) return;
    clearInterval(this.rootPoll);
    this.rootPoll = undefined;
    this.enqueue({ paths: new Set(), all: true });
  }
}
