/**
 * What enrolling a pod takes (PodSpec) and the checks run on it before any capture state is
 * written: addresses and bypass lists valid, cgroup and network namespace there.
 */
import fs from 'node:fs';
import net from 'node:net';
import { Native } from '../../common/native/addon';
import { parseCidr } from '../../common/net/ip';
import { cgroupId } from '../../common/cgroup2';
import { AmbitError, ErrorCodes } from '../../common/errors';

export interface PodBypass {
  /** Destination ports a pod's connects keep going to directly. */
  outboundPorts?: number[];
  /** Destination CIDRs a pod's connects keep going to directly. */
  outboundCidrs?: string[];
  /** Pod ports whose incoming connections are not steered to the agent. */
  inboundPorts?: number[];
}

export interface PodSpec {
  /** namespace/name, for messages. */
  name: string;
  cgroupPath: string;
  /** /run/netns/<name> or /proc/<pid>/ns/net. */
  netnsPath: string;
  ips: string[];
  bypass?: PodBypass;
  /** Refuse app binds of the agent's ports (default true). */
  bindGuard?: boolean;
}

export function validatePodSpec(spec: PodSpec): void {
  const bad = (what: string) => new AmbitError(ErrorCodes.INVALID_ARGUMENT, `pod ${spec.name}: ${what}`);
  if (!spec.ips.length) throw bad('no pod IPs given');
  for (const ip of spec.ips) if (net.isIP(ip) === 0) throw bad(`'${ip}' is not an IP address`);
  const ports = [...(spec.bypass?.outboundPorts ?? []), ...(spec.bypass?.inboundPorts ?? [])];
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw bad(`bypass port ${p} is not 1..65535`);
  for (const c of spec.bypass?.outboundCidrs ?? []) parseCidr(c);
}

export function podCgroupId(spec: PodSpec): bigint {
  try {
    return cgroupId(spec.cgroupPath);
  } catch (e) {
    throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name}: cgroup ${spec.cgroupPath} does not exist or is unreadable`, {
      cause: e,
    });
  }
}

export function openPodNetns(spec: PodSpec): number {
  let fd: number;
  try {
    fd = fs.openSync(spec.netnsPath, 'r');
  } catch (e) {
    throw new AmbitError(ErrorCodes.ENROLL, `pod ${spec.name}: cannot open network namespace ${spec.netnsPath}`, { cause: e });
  }
  try {
    Native.checkNetnsFd(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}
