// The two files the runtime keeps current in its state directory (see state-dir.ts): runtime.json,
// everything `down` needs to remove what the runtime made even after it was SIGKILLed, and
// status.json, what `status` prints. Both are rewritten atomically, coalesced to at most one write
// per event-loop turn.
import type { ProcessIdentity } from '../../common/sandbox';
import type { ConfigProblem } from '../../control-plane/sources/source';
import type { PodRuntimeStatus } from './pod-runner';
import type { EndpointView } from './service-endpoints';
import { StatePaths, writeJsonAtomic } from './state-dir';

export const RECORD_VERSION = 1;

export interface RecordedNode {
  name: string;
  index: number;
  netns: string;
  cgroupPath: string;
  hostCgroupPath: string;
  subnets: string[];
  hostIP: string;
  /** The node's bootstrap token for its agent (when the control plane issued one). */
  tokenFile?: string;
}

export interface RecordedPod {
  namespace: string;
  name: string;
  node: string;
  netns: string;
  cgroupPath: string;
  ips: string[];
  processes: Array<ProcessIdentity & { container: string }>;
}

export interface RuntimeRecord {
  version: typeof RECORD_VERSION;
  /** The runtime process: `down` signals it only while pid and start time both match. */
  runtime: ProcessIdentity;
  /** ambit-l<pid36>-: every netns, cgroup root and pin the runtime creates starts with it. */
  prefix: string;
  startedAt: string;
  /** The YAML directory. */
  dir: string;
  cgroupRoot?: string;
  /** /sys/fs/bpf/<prefix>-<n>: the agents' pinned capture (removed with the cluster). */
  pinDir?: string;
  fabricNetns?: string;
  nodes: RecordedNode[];
  pods: RecordedPod[];
}

export type EnrollmentView = 'enrolled' | 'no agent yet' | 'not ambient';

/** A node's agent as `status` shows it. */
export interface AgentStatus {
  running: boolean;
  pid?: number;
  /** http://<address>:15000 (admin), :15020 (metrics), :15021 (readiness). */
  adminAddress: string;
  restarts: number;
  log: string;
  enrollmentSocket: string;
}

export interface ServiceStatus {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: Array<{ name?: string; port: number; protocol: string }>;
  endpoints: EndpointView[];
}

export interface StatusDoc {
  version: typeof RECORD_VERSION;
  state: 'starting' | 'running' | 'stopping';
  updatedAt: string;
  runtime: ProcessIdentity & { startedAt: string; dir: string; stateDir: string; prefix: string };
  controlPlane: { state: 'starting' } | { state: 'running'; grpcAddress: string; httpAddress: string } | { state: 'failed'; error: string };
  nodes: Array<RecordedNode & { pods: number; agent?: AgentStatus }>;
  fabricNetns?: string;
  pods: Array<PodRuntimeStatus & { enrolled: EnrollmentView; restarts: number }>;
  services: ServiceStatus[];
  problems: ConfigProblem[];
}

/** Coalescing writer of runtime.json and status.json. */
export class RecordWriter {
  private pending = false;
  private closed = false;

  constructor(
    private readonly paths: StatePaths,
    private readonly build: () => { record: RuntimeRecord; status: StatusDoc },
    private readonly onError: (err: Error) => void,
  ) {}

  /** Writes both files now. */
  flush(): void {
    if (this.closed) return;
    const { record, status } = this.build();
    writeJsonAtomic(this.paths.runtime, record);
    writeJsonAtomic(this.paths.status, status);
  }

  /** Writes both files at the end of this event-loop turn (many changes, one write). */
  schedule(): void {
    if (this.pending || this.closed) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      try {
        this.flush();
      } catch (err) {
        this.onError(err as Error);
      }
    });
  }

  /** No more writes (the runtime removes the files after teardown). */
  close(): void {
    this.closed = true;
  }
}
