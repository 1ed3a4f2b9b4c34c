/**
 * The CNI plugin's record of the pods it enrolled on this node: one file per pod,
 * `<dir>/<uid>.json`, written before the plugin forwards an ADD and removed after its DEL (or
 * when the agent did not take the pod). In Kubernetes nobody resends a snapshot when the agent
 * restarts, so the agent reads this record at start to learn the pods already running here.
 *
 *   {"version":1,"uid":"…","namespace":"…","name":"…","containerId":"…",
 *    "netns":"/var/run/netns/cni-…","netnsInode":"<st_dev>:<st_ino>","cgroupPath":"/sys/fs/cgroup/…","ips":["10.244.1.7"]}
 *
 * The netns inode guards against a path that now names another namespace: such a record is
 * stale. Except under /proc: a runtime that names a sandbox by its process (cri-dockerd's
 * /proc/<pid>/ns/net) names it in the host's PID namespace, which the agent's container need not
 * share; there a missing or other namespace says nothing about the pod, only that the agent cannot
 * see it (netns state "unknown").
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
      // Removed between the listing and the read (a DEL): not a record any more.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      scan.unreadable.push({ file, reason: (err as Error).message });
    }
  }
  return scan;
}

/** The record in `file` as it is now; undefined when it is gone. Throws when it is unreadable. */
export function readCniRecord(file: string): CniRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseRecord(file, text);
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
 * The recorded namespace: open (the fd is the caller's to close); gone (the record is stale); or
 * unknown (a /proc/<pid> path this agent cannot judge, see above: keep the pod's capture and its
 * record). Throws on any other failure to open it (the caller retries).
 */
export type RecordedNetns = { state: 'open'; fd: number } | { state: 'gone' | 'unknown'; reason: string };

export function openRecordedNetns(record: CniRecord): RecordedNetns {
  const byPid = record.netns.startsWith('/proc/');
  let fd: number;
  try {
    fd = fs.openSync(record.netns, fs.constants.O_RDONLY); // libuv opens with O_CLOEXEC
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (!byPid) return { state: 'gone', reason: `${record.netns} does not exist` };
    return { state: 'unknown', reason: `${record.netns} does not exist in the agent's PID namespace (${PID_HINT})` };
  }
  const st = fs.fstatSync(fd, { bigint: true });
  if (`${st.dev}:${st.ino}` !== record.netnsInode) {
    fs.closeSync(fd);
    const reason = `${record.netns} names another network namespace now (${st.dev}:${st.ino}, recorded ${record.netnsInode})`;
    return byPid ? { state: 'unknown', reason: `${reason}; ${PID_HINT}` } : { state: 'gone', reason };
  }
  return { state: 'open', fd };
}

const PID_HINT =
  'the runtime names the sandbox by a host process id: run the agent with hostPID: true to re-enroll such pods at start, or restart them';

/**
 * Removes a record (the pod is gone or not ambient) unless the file now holds another sandbox's
 * record (the plugin rewrote it meanwhile); already gone is fine.
 */
export function removeRecord(record: CniRecord): void {
  let now: CniRecord | undefined;
  try {
    now = readCniRecord(record.file);
  } catch {
    return; // not a record this agent can read any more: not the one it judged either
  }
  if (now?.containerId === record.containerId) fs.rmSync(record.file, { force: true });
}
