// The local runtime's state directory (default /run/ambit/local: the state describes kernel
// objects — netns, cgroups, processes — that do not survive a reboot, and /run does not either, so
// a stale record can never outlive what it describes):
//
//   runtime.json     what `down` needs to remove everything: runtime pid + start time, name prefix,
//                    cgroup root, nodes, pods, netns, container pids (rewritten atomically on change)
//   status.json      what `status` prints (phase, readiness, restarts, services, control plane)
//   runtime.log      the background runtime's own log (JSON lines)
//   logs/<ns>_<pod>_<container>.log    container output (appended across restarts)
//   control-plane/   the embedded control plane's CA and node tokens
import fs from 'node:fs';
import path from 'node:path';
import { LocalError, LocalErrorCodes } from './errors';

export const DEFAULT_STATE_DIR = '/run/ambit/local';

export interface StatePaths {
  dir: string;
  runtime: string;
  status: string;
  runtimeLog: string;
  logs: string;
  controlPlane: string;
  /** One directory per node agent: enrollment socket, config cache, agent.log. */
  agents: string;
  /** One directory per waypoint pod: its config cache. */
  waypoints: string;
}

export function statePaths(dir: string): StatePaths {
  const d = path.resolve(dir);
  return {
    dir: d,
    runtime: path.join(d, 'runtime.json'),
    status: path.join(d, 'status.json'),
    runtimeLog: path.join(d, 'runtime.log'),
    logs: path.join(d, 'logs'),
    controlPlane: path.join(d, 'control-plane'),
    agents: path.join(d, 'agents'),
    waypoints: path.join(d, 'waypoints'),
  };
}

/** Writes `file` so that readers see the old or the new content, never a torn one. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Parsed JSON of `file`, undefined when it does not exist; throws STATE_CORRUPT when unreadable. */
export function readJson<T>(file: string, version: number): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LocalError(LocalErrorCodes.STATE_CORRUPT, `${file} is not JSON (${(err as Error).message}); run \`ambit local down\` to clean up`);
  }
  if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== version) {
    throw new LocalError(LocalErrorCodes.STATE_CORRUPT, `${file} is not a version ${version} state file; was it written by another Ambit version?`);
  }
  return doc as T;
}
