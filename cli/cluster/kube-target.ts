// Kubernetes as a cluster, through @kubernetes/client-node (loaded only when --kubeconfig or
// --context asks for it: it is large, and ESM, loaded through require(esm)). Kept small: labels
// are a merge patch of the Namespace; a waypoint is its Gateway, from which the control plane's
// waypoint controller makes the Deployment and Service; the view is a few list calls.
import type * as K8s from '@kubernetes/client-node';
import { GATEWAY_NAME_LABEL, waypointManifests } from '../waypoint/waypoint-manifests';
import { CliError, CliErrorCodes } from './errors';
import type { ClusterTarget, ClusterView, LabelChanges, LabelMap, WaypointSpec } from './target';
import { requireNamespace } from './target';

const GATEWAYS = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways' } as const;

interface KubeObjectLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; generation?: number };
  spec?: { gatewayClassName?: string };
  status?: { conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string; observedGeneration?: number }> };
}

/** A waypoint as its controller reports it: the Gateway's Programmed condition, and its pods. */
export interface WaypointState {
  /** False once the Gateway is gone (deleted meanwhile). */
  exists: boolean;
  generation?: number;
  programmed?: { status: string; reason?: string; message?: string; observedGeneration?: number };
  pods: Array<{ name: string; phase: string; ready: boolean }>;
}

/** ApiException → a CliError that says what the API server said. */
function apiError(what: string, e: unknown): CliError {
  const code = (e as { code?: unknown }).code;
  const body = (e as { body?: unknown }).body;
  const reason = typeof body === 'string' ? (() => { try { return (JSON.parse(body) as { message?: string }).message; } catch { return body; } })() : undefined;
  const detail = typeof code === 'number' ? `HTTP ${code}${reason ? `: ${reason}` : ''}` : (e as Error).message;
  const hint = code === 403 ? '; your user lacks RBAC permission for it' : code === 404 && what.includes('Gateway') ? '; are the Gateway API CRDs installed?' : '';
  return new CliError(CliErrorCodes.KUBE_API, `${what} failed (${detail})${hint}`, { cause: e });
}

export class KubeTarget implements ClusterTarget {
  readonly kind = 'kubernetes' as const;

  private constructor(
    readonly description: string,
    private readonly k8s: typeof K8s,
    private readonly core: K8s.CoreV1Api,
    private readonly custom: K8s.CustomObjectsApi,
  ) {}

  static async open(opts: { kubeconfig?: string; context?: string }): Promise<KubeTarget> {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    try {
      if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
      else kc.loadFromDefault();
    } catch (e) {
      throw new CliError(CliErrorCodes.NO_TARGET, `cannot read kubeconfig ${opts.kubeconfig ?? '(default)'}: ${(e as Error).message}`);
    }
    if (opts.context !== undefined) {
      const names = kc.getContexts().map((c) => c.name);
      if (!names.includes(opts.context)) throw new CliError(CliErrorCodes.NO_TARGET, `no context ${opts.context} in the kubeconfig (contexts: ${names.join(', ') || 'none'})`);
      kc.setCurrentContext(opts.context);
    }
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new CliError(CliErrorCodes.NO_TARGET, 'the kubeconfig has no current cluster; pass --context');
    return new KubeTarget(`Kubernetes context ${kc.getCurrentContext()} (${cluster.server})`, k8s, kc.makeApiClient(k8s.CoreV1Api), kc.makeApiClient(k8s.CustomObjectsApi));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw apiError(what, e);
    }
  }

  async view(): Promise<ClusterView> {
    const [nss, pods, svcs, gws] = await Promise.all([
      this.call('listing namespaces', () => this.core.listNamespace()),
      this.call('listing pods', () => this.core.listPodForAllNamespaces()),
      this.call('listing services', () => this.core.listServiceForAllNamespaces()),
      this.call('listing Gateways', () => this.custom.listClusterCustomObject({ ...GATEWAYS }) as Promise<{ items?: KubeObjectLike[] }>),
    ]);
    const labels = (o: { metadata?: { labels?: Record<string, string> } }): LabelMap => o.metadata?.labels ?? {};
    return {
      namespaces: nss.items.map((n) => ({ name: n.metadata?.name ?? '', labels: labels(n), hasObject: true })),
      pods: pods.items.map((p) => ({
        namespace: p.metadata?.namespace ?? 'default',
        name: p.metadata?.name ?? '',
        labels: labels(p),
        ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
        ips: (p.status?.podIPs ?? []).map((i) => i.ip),
        phase: p.status?.phase ?? 'Unknown',
        ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      })),
      services: svcs.items.map((s) => ({
        namespace: s.metadata?.namespace ?? 'default',
        name: s.metadata?.name ?? '',
        labels: labels(s),
        ...(s.spec?.clusterIP ? { clusterIP: s.spec.clusterIP } : {}),
      })),
      gateways: (gws.items ?? []).map((g) => ({
        namespace: g.metadata?.namespace ?? 'default',
        name: g.metadata?.name ?? '',
        className: g.spec?.gatewayClassName ?? '',
        labels: labels(g),
      })),
    };
  }

  async setNamespaceLabels(namespace: string, changes: LabelChanges): Promise<string> {
    await this.existingNamespace(namespace);
    const options = this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.MergePatch);
    // A JSON merge patch (RFC 7386): null removes a label, other labels are left alone.
    await this.call(`patching namespace ${namespace}`, () => this.core.patchNamespace({ name: namespace, body: { metadata: { labels: changes } } }, options));
    return `patched namespace ${namespace}`;
  }

  async createWaypoint(spec: WaypointSpec): Promise<string> {
    await this.existingNamespace(spec.namespace);
    const [gateway] = waypointManifests(spec);
    try {
      await this.custom.createNamespacedCustomObject({ ...GATEWAYS, namespace: spec.namespace, body: gateway });
    } catch (e) {
      if ((e as { code?: unknown }).code === 409) {
        throw new CliError(CliErrorCodes.WAYPOINT_EXISTS, `waypoint ${spec.namespace}/${spec.name} exists already; pick another --name, or \`ambit waypoint delete ${spec.name} -n ${spec.namespace}\` first`);
      }
      throw apiError(`creating Gateway ${spec.namespace}/${spec.name}`, e);
    }
    return `created Gateway ${spec.namespace}/${spec.name}; the waypoint controller deploys its pods (label ${GATEWAY_NAME_LABEL}=${spec.name})`;
  }

  /** The Gateway's Programmed condition and the pods labelled with its name (one read each). */
  async waypointState(namespace: string, name: string): Promise<WaypointState> {
    let gateway: KubeObjectLike;
    try {
      gateway = (await this.custom.getNamespacedCustomObject({ ...GATEWAYS, namespace, name })) as KubeObjectLike;
    } catch (e) {
      if ((e as { code?: unknown }).code === 404) return { exists: false, pods: [] };
      throw apiError(`reading Gateway ${namespace}/${name}`, e);
    }
    const pods = await this.call(`listing the pods of waypoint ${namespace}/${name}`, () =>
      this.core.listNamespacedPod({ namespace, labelSelector: `${GATEWAY_NAME_LABEL}=${name}` }),
    );
    const programmed = gateway.status?.conditions?.find((c) => c.type === 'Programmed');
    return {
      exists: true,
      ...(gateway.metadata?.generation !== undefined ? { generation: gateway.metadata.generation } : {}),
      ...(programmed ? { programmed: { status: programmed.status ?? 'Unknown', reason: programmed.reason, message: programmed.message, observedGeneration: programmed.observedGeneration } } : {}),
      pods: pods.items.map((p) => ({
        name: p.metadata?.name ?? '',
        phase: p.status?.phase ?? 'Unknown',
        ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      })),
    };
  }

  async deleteWaypoint(namespace: string, name: string): Promise<string> {
    try {
      await this.custom.deleteNamespacedCustomObject({ ...GATEWAYS, namespace, name });
    } catch (e) {
      if ((e as { code?: unknown }).code === 404) {
        throw new CliError(CliErrorCodes.WAYPOINT_NOT_FOUND, `there is no waypoint ${namespace}/${name}; \`ambit waypoint list\` shows the ones there are`);
      }
      throw apiError(`deleting Gateway ${namespace}/${name}`, e);
    }
    return `deleted Gateway ${namespace}/${name}`;
  }

  private async existingNamespace(namespace: string): Promise<void> {
    try {
      await this.core.readNamespace({ name: namespace });
    } catch (e) {
      if ((e as { code?: unknown }).code !== 404) throw apiError(`reading namespace ${namespace}`, e);
      requireNamespace(await this.view(), namespace, this.description);
    }
  }
}
