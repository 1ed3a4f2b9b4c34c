/**
 * Keeps ambit-cni installed on the node while the agent DaemonSet runs (Istio's install-cni does
 * the same for istio-cni):
 *
 *   start   copy the plugin into the CNI bin dir, chain it last in the primary config, watch
 *   watch   the conf dir changed (the network plugin rewrote its config, a new primary appeared):
 *           chain again; also every resyncMs, which re-installs a binary that went missing
 *   stop    remove the entry from every config and then the binary — only when told to (see
 *           uninstall-detector.ts): an agent restart or rollout leaves both in place
 *
 * Without the entry, new ambient pods on the node would start uncaptured (fail open); with the
 * entry and no binary, every pod on the node would fail to start. Hence: binary before entry on
 * the way in, entry before binary on the way out.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { chainConfig, PLUGIN_TYPE, primaryConfig, unchainConfig, type AmbitCniEntry } from './cni-config';
import { ioError } from './errors';
import { configFiles, installBinary, modeOf, readText, removeFile, writeAtomically } from './host-files';

export interface CniInstallerOptions {
  /** The ambit-cni binary to install. */
  pluginSource: string;
  binDir: string;
  confDir: string;
  entry: AmbitCniEntry;
  logger: Logger;
  /** Full check besides watching; default 30 s. */
  resyncMs?: number;
  /** Quiet time after a directory event before looking (a writer may not be done); default 100 ms. */
  settleMs?: number;
  /** Wait after a failed pass before the next; default 1 s. */
  retryMs?: number;
  /** Consecutive failed passes before giving up (a half-written file gets this many looks); default 3. */
  maxFailures?: number;
}

/** What one pass found or did. */
export interface SyncResult {
  /** The primary config after the pass ('' = no config in the directory yet). */
  readonly primary: string;
  readonly chained: boolean;
  readonly binaryInstalled: boolean;
}

export interface StopResult {
  /** Config files the entry was removed from. */
  readonly unchained: readonly string[];
  readonly binaryRemoved: boolean;
  /** Files that could not be cleaned (unreadable, not JSON, not writable), each with why. */
  readonly problems: readonly string[];
}

export class CniInstaller {
  /** Settles with the error that made the installer give up after start (the program exits non-zero). */
  readonly failed: Promise<Error>;
  private reportFailure!: (err: Error) => void;
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly settleMs: number;
  private readonly retryMs: number;
  private readonly maxFailures: number;
  private watcher?: fs.FSWatcher;
  private resyncTimer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private failures = 0;
  private everChained = false;
  private waitingSaid = false;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(private readonly opts: CniInstallerOptions) {
    this.log = opts.logger;
    this.resyncMs = opts.resyncMs ?? 30_000;
    this.settleMs = opts.settleMs ?? 100;
    this.retryMs = opts.retryMs ?? 1_000;
    this.maxFailures = opts.maxFailures ?? 3;
    this.failed = new Promise((resolve) => (this.reportFailure = resolve));
  }

  get binaryPath(): string {
    return path.join(this.opts.binDir, PLUGIN_TYPE);
  }

  /**
   * Installs and chains, then watches. Resolves after the first successful pass (with no config in
   * the directory yet, once the binary is in place: chaining follows when one appears); rejects
   * with the last error after maxFailures failed passes.
   */
  async start(): Promise<SyncResult> {
    if (this.state !== 'new') throw new Error('start() runs once');
    this.state = 'running';
    try {
      // Watch first: a rewrite during the first pass is seen.
      this.watcher = fs.watch(this.opts.confDir, { persistent: true }, () => this.schedule(this.settleMs));
    } catch (err) {
      this.state = 'stopped';
      throw ioError(`watch ${this.opts.confDir} (is the host's CNI config directory mounted?)`, err);
    }
    this.watcher.on('error', (err) => this.giveUp(ioError(`watch ${this.opts.confDir}`, err)));
    for (let attempt = 1; ; attempt++) {
      try {
        const first = this.pass();
        this.resyncTimer = setInterval(() => this.schedule(0), this.resyncMs);
        return first;
      } catch (err) {
        if (attempt >= this.maxFailures) {
          this.close();
          throw err;
        }
        this.log.warn({ err, attempt }, `${(err as Error).message}; looking again in ${this.retryMs} ms`);
        await new Promise((r) => setTimeout(r, this.retryMs));
        if (this.state !== 'running') throw err;
      }
    }
  }

  /** One pass: the binary in place, the primary config chained. Throws CniInstallError. */
  pass(): SyncResult {
    const binaryInstalled = installBinary(this.opts.pluginSource, this.binaryPath);
    if (binaryInstalled) this.log.info({ binary: this.binaryPath }, `installed ${this.opts.pluginSource} as ${this.binaryPath}`);
    const primary = primaryConfig(configFiles(this.opts.confDir));
    if (primary === undefined) {
      if (!this.waitingSaid) this.log.warn({ dir: this.opts.confDir }, `no CNI config in ${this.opts.confDir} yet; chaining ${PLUGIN_TYPE} when the network plugin writes one`);
      this.waitingSaid = true;
      return { primary: '', chained: false, binaryInstalled };
    }
    this.waitingSaid = false;
    const file = path.join(this.opts.confDir, primary);
    const change = chainConfig(primary, readText(file), this.opts.entry);
    if (change.changed) {
      writeAtomically(path.join(this.opts.confDir, change.name), change.text, modeOf(file, 0o644));
      if (change.replaces !== undefined) removeFile(path.join(this.opts.confDir, change.replaces));
      const what = change.replaces !== undefined ? `${change.replaces} (a single plugin) as the list ${change.name}` : change.name;
      this.log.info(
        { file: change.name, replaced: change.replaces },
        this.everChained ? `re-chained ${PLUGIN_TYPE} in ${what}: the file was rewritten without it` : `chained ${PLUGIN_TYPE} in ${what}`,
      );
    } else if (!this.everChained) {
      this.log.info({ file: primary }, `${PLUGIN_TYPE} already chained in ${primary}`);
    }
    this.everChained = true;
    return { primary: change.name, chained: true, binaryInstalled };
  }

  /**
   * Stops watching; with `remove`, takes the entry out of every config file in the directory,
   * then deletes the binary. Files that cannot be cleaned are reported, not thrown: the others
   * are still cleaned.
   */
  stop(remove: boolean): StopResult {
    this.close();
    if (!remove) return { unchained: [], binaryRemoved: false, problems: [] };
    const unchained: string[] = [];
    const problems: string[] = [];
    let names: string[] = [];
    try {
      names = configFiles(this.opts.confDir);
    } catch (err) {
      problems.push((err as Error).message);
    }
    for (const name of names.sort()) {
      const file = path.join(this.opts.confDir, name);
      try {
        const change = unchainConfig(name, readText(file));
        if (!change.changed) continue;
        writeAtomically(file, change.text, modeOf(file, 0o644));
        unchained.push(name);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    let binaryRemoved = false;
    try {
      binaryRemoved = removeFile(this.binaryPath);
    } catch (err) {
      problems.push((err as Error).message);
    }
    return { unchained, binaryRemoved, problems };
  }

  private schedule(delayMs: number): void {
    if (this.state !== 'running') return;
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.passFromWatch(), delayMs);
  }

  private passFromWatch(): void {
    if (this.state !== 'running') return;
    try {
      this.pass();
      this.failures = 0;
    } catch (err) {
      this.failures++;
      if (this.failures >= this.maxFailures) return this.giveUp(err as Error);
      this.log.warn({ err, attempt: this.failures }, `${(err as Error).message}; looking again in ${this.retryMs} ms`);
      this.schedule(this.retryMs);
    }
  }

  private giveUp(err: Error): void {
    if (this.state !== 'running') return;
    this.close();
    this.reportFailure(err);
  }

  private close(): void {
    this.state = 'stopped';
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.resyncTimer);
    clearTimeout(this.pending);
  }
}
