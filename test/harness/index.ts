// Public API of the privileged test harness. See topology.ts for the picture.
export * from './addresses';
export { CleanupError, CleanupStack, cleanupAll, defer, processCleanup } from './cleanup';
export type { CleanupFn, CleanupHandle, CleanupOptions } from './cleanup';
export { cgroupOfPid, cgroupProcs, removeCgroupTree } from './cgroup';
export { HarnessCommandError, ipIn, run } from './command';
export { BPFFS, createPinDir, ensureBpffs } from './bpffs';
export { creatorPid, NAME_PREFIX, nextName, runPrefix } from './names';
export { createNetns, deleteNetns, execInNetns, listNetns, netnsIdentity, netnsPath, setNetnsSysctls } from './netns';
export type { Netns } from './netns';
export type { Pod } from './pod';
export { execIn, killChild, PodExecTimeoutError, spawnIn, waitForLine } from './pod-exec';
export type { ExecOptions, ExecResult, Placement, PodSpawnOptions } from './pod-exec';
export { missingPrivileges, NotPrivilegedError, requirePrivileged } from './privileges';
export { listLeftovers, noLeftovers, prepareHost, sweepLeftovers } from './sweep';
export type { Leftovers } from './sweep';
export { createMesh, MAX_MESH_NODES } from './topology';
export type { Mesh, MeshNode, MeshOptions } from './topology';
