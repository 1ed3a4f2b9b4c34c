// A pid alone does not name a process for long: after it exits the kernel hands the number to
// someone else. A pid plus its start time (field 22 of /proc/<pid>/stat, clock ticks since boot)
// does, so whatever signals a recorded process (`ambit local down`) checks both first.
import fs from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat starttime: clock ticks after boot. */
  startTime: number;
}

/** Fields of /proc/<pid>/stat after the command name, which may itself contain spaces and ')'. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 3 (state) starts two characters after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The start time of `pid`, or undefined when no such process exists. */
export function processStartTime(pid: number): number | undefined {
  const f = statFields(pid);
  // starttime is field 22; f[0] is field 3.
  return f === undefined ? undefined : Number(f[22 - 3]);
}

/** The identity of a live process (undefined when it is gone). */
export function identify(pid: number): ProcessIdentity | undefined {
  const startTime = processStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/**
 * True while the process `id` names is still running: same pid, same start time, not a zombie
 * (a zombie has finished; it only waits for its parent to reap it).
 */
export function isRunning(id: ProcessIdentity): boolean {
  const f = statFields(id.pid);
  return f !== undefined && f[0] !== 'Z' && Number(f[22 - 3]) === id.startTime;
}
