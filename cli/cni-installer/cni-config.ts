/**
 * The CNI configuration side of the installer, without I/O: which file of the conf directory the
 * container runtime uses, that file with ambit-cni chained last, and that file without it again.
 *
 * containerd and CRI-O (through libcni) load the first file, in byte order of the name, ending in
 * .conf, .conflist or .json. A .conflist holds {"cniVersion", "name", "plugins": [...]}; the
 * others hold one plugin. A plugin can be chained only in a list, so a single-plugin file becomes a
 * list of one plus ambit-cni, written as <base>.conflist with the original removed (what Istio's
 * install-cni does); its network name and cniVersion carry over, so the primary plugin sees the
 * same config (libcni hands every plugin of a list the list's name and cniVersion).
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CniInstallError, CniInstallErrorCodes } from './errors';

export const PLUGIN_TYPE = 'ambit-cni';
/** The extensions libcni loads (libcni.ConfFiles with containerd's and CRI-O's list). */
export const CONFIG_EXTENSIONS: readonly string[] = ['.conf', '.conflist', '.json'];
/** What native/cni/conf.c accepts; a list of another version would fail every ADD. */
export const SUPPORTED_CNI_VERSIONS: readonly string[] = ['0.4.0', '1.0.0', '1.1.0'];

/** ambit-cni's entry in the list: the keys native/cni/conf.c reads (docs/cni.md). */
export interface AmbitCniEntry {
  readonly type: typeof PLUGIN_TYPE;
  readonly socketPath: string;
  readonly recordDir: string;
  readonly excludeNamespaces: readonly string[];
  /** Ask the runtime for the pod's cgroup (containerd passes it); the plugin searches otherwise. */
  readonly capabilities: { readonly cgroupPath: true };
}

export function ambitCniEntry(o: { socketPath: string; recordDir: string; excludeNamespaces: readonly string[] }): AmbitCniEntry {
  return { type: PLUGIN_TYPE, socketPath: o.socketPath, recordDir: o.recordDir, excludeNamespaces: [...o.excludeNamespaces], capabilities: { cgroupPath: true } };
}

export const isConfigFile = (name: string): boolean => CONFIG_EXTENSIONS.includes(path.extname(name));

/** The file the runtime uses: the first config file in byte order (Go's sort.Strings). */
export function primaryConfig(names: readonly string[]): string | undefined {
  const candidates = names.filter(isConfigFile);
  candidates.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  return candidates[0];
}

/** A file to write: its new text under `name`, and the file it replaces when renamed. */
export interface ConfigChange {
  readonly changed: boolean;
  /** The file to write (the same name, or <base>.conflist for a single-plugin file). */
  readonly name: string;
  readonly text: string;
  /** A single-plugin file now held by `name`: delete it once `name` is written. */
  readonly replaces?: string;
}

type Json = Record<string, unknown>;

const configError = (name: string, what: string): CniInstallError => new CniInstallError(CniInstallErrorCodes.CONFIG, `${name}: ${what}`);

function parse(name: string, text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw configError(name, `not JSON (${(e as Error).message}); the container runtime cannot load it either: fix or replace the network plugin's config`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError(name, 'not a CNI network config (a JSON object)');
  return value as Json;
}

function checkVersion(name: string, conf: Json): void {
  const v = conf.cniVersion;
  if (typeof v !== 'string' || !SUPPORTED_CNI_VERSIONS.includes(v)) {
    throw configError(
      name,
      `cniVersion ${JSON.stringify(v ?? null)} cannot be chained: ambit-cni speaks ${SUPPORTED_CNI_VERSIONS.join(', ')}; upgrade the network plugin (or its config) to CNI 0.4.0 or later`,
    );
  }
}

const render = (conf: Json): string => `${JSON.stringify(conf, null, 2)}\n`;

/** `text` (the file `name`) with `entry` as the last plugin, any earlier ambit-cni entry replaced; other plugins untouched. */
export function chainConfig(name: string, text: string, entry: AmbitCniEntry): ConfigChange {
  const conf = parse(name, text);
  if (path.extname(name) === '.conflist') {
    const plugins = conf.plugins;
    if (!Array.isArray(plugins) || plugins.some((p) => p === null || typeof p !== 'object' || Array.isArray(p))) {
      throw configError(name, 'a .conflist needs a "plugins" list of objects');
    }
    checkVersion(name, conf);
    const next = [...(plugins as Json[]).filter((p) => p.type !== PLUGIN_TYPE), entry];
    if (isDeepStrictEqual(plugins, next)) return { changed: false, name, text };
    return { changed: true, name, text: render({ ...conf, plugins: next }) };
  }
  if (typeof conf.type !== 'string' || conf.type === '') throw configError(name, 'a single-plugin config (.conf, .json) needs a "type"');
  checkVersion(name, conf);
  const { cniVersion, name: network, ...plugin } = conf;
  const list = `${name.slice(0, -path.extname(name).length)}.conflist`;
  return { changed: true, name: list, text: render({ cniVersion, name: network, plugins: [plugin, entry] }), replaces: name };
}

/** `text` without ambit-cni entries; unchanged when it has none (or is not a list). */
export function unchainConfig(name: string, text: string): ConfigChange {
  const conf = parse(name, text);
  if (!Array.isArray(conf.plugins)) return { changed: false, name, text };
  const plugins = conf.plugins as unknown[];
  const next = plugins.filter((p) => (p as Json | null)?.type !== PLUGIN_TYPE);
  if (next.length === plugins.length) return { changed: false, name, text };
  return { changed: true, name, text: render({ ...conf, plugins: next }) };
}

/** Whether the file `name` holding `text` has `entry` as its last plugin (false for anything unparsable). */
export function isChained(name: string, text: string, entry: AmbitCniEntry): boolean {
  try {
    return !chainConfig(name, text, entry).changed;
  } catch {
    return false;
  }
}
