// The configuration the embedded control plane sees: the YAML directory's objects with what the
// API server and the kubelets would have added, so the control plane cannot tell a local pod from
// a Kubernetes one:
//   Pod      metadata.uid, spec.nodeName (the node chosen), status.phase/podIP/podIPs/hostIP/
//            startTime/conditions (PodScheduled, Initialized, ContainersReady, Ready)
//   Service  spec.clusterIP/clusterIPs allocated from 198.19.0.0/16 when absent (cluster-ips.ts)
// A Pod is delivered again whenever its status changes, readiness included, so endpoints follow
// the readiness probes. The overlay wraps the runtime's single view of the YAML source
// (DesiredState) rather than starting a second watch of the directory.
import type { KubeObject, ObjectKey, Pod, PodStatus, Service } from '../../control-plane/kube/objects';
import { objectKey } from '../../control-plane/kube/objects';
import type { ConfigSource, SourceChanges, SourceSink } from '../../control-plane/sources/source';
import type { DesiredState } from './desired-state';
import type { PodRuntimeStatus } from './pod-runner';
import { podConditions } from './pod-status';

export interface PodStatusSource {
  /** The runtime's view of a pod (undefined while it is not created yet). */
  podStatus(namespace: string, name: string): PodRuntimeStatus | undefined;
  /** Calls `listener` after the status of pod namespace/name may have changed. */
  onPodStatus(listener: (namespace: string, name: string) => void): () => void;
}

export interface VipSource {
  /** The ClusterIP of a Service (allocated on first ask; 'None' for headless). */
  clusterIP(svc: Service): string;
}

type OverlayPodStatus = PodStatus & { startTime?: string };

export class StatusOverlay implements ConfigSource {
  readonly name: string;
  private sink: SourceSink | undefined;
  /** Set once the first complete view went out; changes before it are part of that view. */
  private live = false;
  private unsubscribe: Array<() => void> = [];
  /** What was last delivered per pod, to deliver again only on a change. */
  private readonly delivered = new Map<ObjectKey, string>();

  constructor(
    private readonly desired: DesiredState,
    private readonly pods: PodStatusSource,
    private readonly vips: VipSource,
    sourceName: string,
  ) {
    this.name = sourceName;
  }

  /** `o` as the control plane should see it. */
  decorate(o: KubeObject): KubeObject {
    if (o.kind === 'Pod') return this.decoratePod(o as Pod);
    if (o.kind === 'Service') {
      const svc = o as Service;
      const ip = this.vips.clusterIP(svc);
      return { ...svc, spec: { ...svc.spec, clusterIP: ip, clusterIPs: ip === 'None' ? ['None'] : [ip] } };
    }
    return o;
  }

  private decoratePod(pod: Pod): Pod {
    const s = this.pods.podStatus(pod.metadata.namespace ?? 'default', pod.metadata.name);
    if (s === undefined) {
      return { ...pod, status: { phase: 'Pending', conditions: podConditions(false, false) } };
    }
    const status: OverlayPodStatus = {
      phase: s.phase,
      hostIP: s.hostIP,
      startTime: s.startTime,
      conditions: podConditions(true, s.ready),
      ...(s.podIPs.length > 0 ? { podIP: s.podIPs[0], podIPs: s.podIPs.map((ip) => ({ ip })) } : {}),
    };
    return {
      ...pod,
      metadata: { ...pod.metadata, uid: s.uid, creationTimestamp: pod.metadata.creationTimestamp ?? s.startTime },
      spec: { ...pod.spec!, nodeName: s.node },
      status,
    };
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.sink !== undefined) throw new Error(`${this.name} is already started`);
    this.sink = sink;
    this.unsubscribe.push(
      this.desired.subscribe({
        changed: (changes) => this.live && this.forward(changes),
        problems: (list) => this.sink?.problems(list),
      }),
      this.pods.onPodStatus((ns, name) => this.podChanged(ns, name)),
    );
    await this.desired.whenSynced();
    if (this.sink !== sink) return; // stopped meanwhile
    this.forward({ upsert: this.desired.all(), remove: [] });
    this.live = true;
    sink.problems(this.desired.currentProblems());
    sink.synced();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.sink = undefined;
    this.live = false;
    this.delivered.clear();
  }

  private forward(changes: SourceChanges): void {
    if (this.sink === undefined) return;
    const upsert = changes.upsert.map((o) => this.decorate(o));
    for (const o of upsert) if (o.kind === 'Pod') this.delivered.set(objectKey(o), JSON.stringify([o.spec, o.status]));
    for (const key of changes.remove) this.delivered.delete(key);
    if (upsert.length > 0 || changes.remove.length > 0) this.sink.apply({ upsert, remove: changes.remove });
  }

  private podChanged(namespace: string, name: string): void {
    const key = `Pod/${namespace}/${name}`;
    const pod = this.desired.get(key);
    if (this.sink === undefined || pod === undefined || !this.live) return;
    const decorated = this.decorate(pod);
    const fingerprint = JSON.stringify([decorated.spec, decorated.status]);
    if (this.delivered.get(key) === fingerprint) return;
    this.delivered.set(key, fingerprint);
    this.sink.apply({ upsert: [decorated], remove: [] });
  }
}
