/**
 * The CNI plugin's record of the pods it enrolled on this node: one file per pod,
 * `<dir>/<uid>.json`, written before the plugin forwards an ADD and removed after its DEL (or
 * when the agent did not take the pod). In Kubernetes nobody resends a snapshot when the agent
 * restarts, so the agent reads this record at start to learn the pods already running here.
 *
 *   {"version":1,"uid":"…","namespace":"…","name":"…","containerId":"…",
 *    "netns":"/var/run/netns/cni-…","netnsInode":"<st_dev>:<st_ino>","cgroupPath":"/sys/fs/cgroup/…","ips":["10.244.1.7"]}
 *
 * The netns inode guards against a path that now names another namespace (a reused
 * /proc/<pid>/ns/net, say): such a record is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readCniPod, type CniPodInfo } from '../../common/enrollment/protocol';

export const CNI_RECORD_VERSION = 1;
const RECORD_FIELDS = new Set(['version', 'uid', 'namespace', 'name', 'containerId', 'netns', 'netnsInode', 'cgroupPath', 'ips']);

export interface CniRecord {
  file: string;
  pod: CniPodInfo;
  containerId: string;
  netns: string;
  /** "<st_dev>:<st_ino>" of the namespace when the plugin recorded it. */
  netnsInode: string;
}

export interface CniRecordScan {
  records: CniRecord[];
  /** Files that are not records this agent can read: left alone, reported. */
  unreadable: Array<{ file: string; reason: string }>;
}

export function readCniRecords(dir: string): CniRecordScan {
  const scan: CniRecordScan = { records: [], unreadable: [] };
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return scan;
    throw err;
  }
  for (const name of names.sort()) {
    if (!name.endsWith('.json')) continue; // the plugin's temporary files end in .tmp
    const file = path.join(dir, name);
    try {
      scan.records.push(parseRecord(file, fs.readFileSync(file, 'utf8')));
    } catch (err) {
      scan.unreadable.push({ file, reason: (err as Error).message });
    }
  }
  return scan;
}

function parseRecord(file: string, text: string): CniRecord {
  const o = JSON.parse(text) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not a JSON object');
  if (o.version !== CNI_RECORD_VERSION) throw new Error(`version ${String(o.version)}, this agent reads ${CNI_RECORD_VERSION}`);
  for (const key of Object.keys(o)) if (!RECORD_FIELDS.has(key)) throw new Error(`unknown field '${key}'`);
  const str = (key: string): string => {
    const v = o[key];
    if (typeof v !== 'string' || v.length === 0) throw new Error(`${key} must be a non-empty string`);
    return v;
  };
  const pod = readCniPod({ uid: o.uid, name: o.name, namespace: o.namespace, cgroupPath: o.cgroupPath, ips: o.ips }, null, 'record');
  if (path.basename(file) !== `${pod.uid}.json`) throw new Error(`the file name does not match uid ${pod.uid}`);
  const netns = str('netns');
  if (!path.isAbsolute(netns)) throw new Error('netns must be an absolute path');
  const netnsInode = str('netnsInode');
  if (!/^[0-9]+:[0-9]+$/.test(netnsInode)) throw new Error('netnsInode must be "<dev>:<ino>"');
  return { file, pod, containerId: str('containerId'), netns, netnsInode };
}

/**
 * Opens the record's namespace; undefined when it is gone or the path names another namespace
 * now (the record is stale).
 */
export function openRecordedNetns(record: CniRecord): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(record.netns, fs.constants.O_RDONLY); // libuv opens with O_CLOEXEC
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const st = fs.fstatSync(fd, { bigint: true });
  if (`${st.dev}:${st.ino}` !== record.netnsInode) {
    fs.closeSync(fd);
    return undefined;
  }
  return fd;
}

/** Removes a record (the pod is gone or not ambient); already gone is fine. */
export function removeRecord(record: CniRecord): void {
  fs.rmSync(record.file, { force: true });
}
