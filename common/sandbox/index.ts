// The sandbox runtime: pods and nodes as network namespaces and cgroups on this kernel, processes
// placed in them from their first instruction, and removal of everything, also after a crash.
// Used by the privileged tests (test/harness, family ambit-t) and the local runtime (cli/local,
// family ambit-l). See cluster.ts for the picture and addresses.ts for the address plan.
export * from './addresses';
export { BPFFS, createPinDir, ensureBpffs, removePinDir } from './bpffs';
export { assertSandboxCgroup, cgroupOfPid, cgroupProcs, cgroupTree, createCgroup, removeCgroupTree, removeCgroupTreeSync } from './cgroup';
export { cleanupAll, CleanupStack, defer, processCleanup } from './cleanup';
export type { CleanupFn, CleanupHandle, CleanupOptions } from './cleanup';
export { SandboxCluster } from './cluster';
export type { AddPodOptions, ClusterOptions } from './cluster';
export { ipIn, run, runSync } from './command';
export type { RunOptions } from './command';
export { CleanupError, ExecTimeoutError, NotOursError, SandboxCommandError, SandboxErrorCodes } from './errors';
export type { Interconnect } from './interconnect';
export {
  isSandboxFamily,
  isSandboxName,
  isSandboxPrefix,
  MAX_IFNAME,
  parseSandboxName,
  pidAlive,
  runPrefixOf,
  SANDBOX_FAMILIES,
  SandboxNamer,
} from './names';
export type { SandboxFamily } from './names';
export { createNetns, deleteNetns, deleteNetnsSync, execInNetns, listNetns, NETNS_DIR, netnsIdentity, netnsPath, setNetnsSysctls } from './netns';
export type { Netns } from './netns';
export { checkNodeName } from './node';
export type { SandboxNode } from './node';
export { POD_SANDBOX_NAME } from './pod';
export type { SandboxPod } from './pod';
export { identify, isRunning, processStartTime } from './process-identity';
export type { ProcessIdentity } from './process-identity';
export { execIn, killChild, spawnIn } from './spawn';
export type { ExecOptions, ExecResult, Placement, SpawnInOptions } from './spawn';
export { isEmpty, listLeftovers, removeLeftovers, sweepLeftovers } from './sweep';
export type { Leftovers } from './sweep';
