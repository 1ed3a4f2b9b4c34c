// Public API of the privileged test harness: a thin layer over the sandbox runtime
// (common/sandbox) in the test family `ambit-t`. See topology.ts for the picture.
export * from '../../common/sandbox/addresses';
export { CleanupError, CleanupStack, cleanupAll, defer, processCleanup } from '../../common/sandbox';
export type { CleanupFn, CleanupHandle, CleanupOptions } from '../../common/sandbox';
export { cgroupOfPid, cgroupProcs, removeCgroupTree } from '../../common/sandbox';
export { SandboxCommandError as HarnessCommandError, ipIn, run } from '../../common/sandbox';
export { BPFFS, createPinDir, ensureBpffs } from './bpffs';
export { creatorPid, NAME_PREFIX, nextName, runPrefix } from './names';
export { createNetns, deleteNetns, execInNetns, listNetns, netnsIdentity, netnsPath, setNetnsSysctls } from '../../common/sandbox';
export type { Netns } from '../../common/sandbox';
export type { Pod } from './pod';
export { execIn, killChild, PodExecTimeoutError, spawnIn, waitForLine } from './pod-exec';
export type { ExecOptions, ExecResult, Placement, PodSpawnOptions } from './pod-exec';
export { missingPrivileges, NotPrivilegedError, requirePrivileged } from './privileges';
export { listLeftovers, noLeftovers, prepareHost, sweepLeftovers } from './sweep';
export type { Leftovers } from './sweep';
export { createMesh, MAX_MESH_NODES } from './topology';
export type { Mesh, MeshNode, MeshOptions } from './topology';
export { ambit, AMBIT_CLI, ANY_PORTS, TS_REGISTER } from './ambit-cli';
export type { CliResult } from './ambit-cli';
