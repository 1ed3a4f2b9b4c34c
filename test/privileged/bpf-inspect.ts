/** What the kernel reports through bpftool: used to prove teardown leaves no program, map or link. */
import { execFileSync } from 'node:child_process';

function bpftool<T>(...args: string[]): T {
  // An empty listing prints a bare newline, not [].
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }).trim() || '[]') as T;
}

export interface ProgInfo {
  id: number;
  name?: string;
  map_ids?: number[];
}

export interface LinkInfo {
  id: number;
  type: string;
  prog_id: number;
  netns_ino?: number;
  cgroup_id?: number;
  attach_type?: string;
}

export const programs = (): ProgInfo[] => bpftool<ProgInfo[]>('prog', 'show');
export const links = (): LinkInfo[] => bpftool<LinkInfo[]>('link', 'show');
export const maps = (): Array<{ id: number; name?: string }> => bpftool('map', 'show');
export const cgroupPrograms = (cgroupPath: string): Array<{ id: number; name?: string }> =>
  bpftool('cgroup', 'show', cgroupPath);

/** Programs named ambit_* (the privileged tier runs in band, so these are this test's). */
export const ambitPrograms = (): ProgInfo[] => programs().filter((p) => p.name?.startsWith('ambit_'));
