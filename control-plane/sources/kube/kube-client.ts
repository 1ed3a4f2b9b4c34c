/**
 * The connection to the Kubernetes API: a KubeConfig (a kubeconfig file, or the default chain:
 * $KUBECONFIG, ~/.kube/config, then the pod's service account when in a cluster) and the typed
 * API clients the source, the waypoint controller and leader election use.
 */
import * as k8s from '@kubernetes/client-node';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../../errors';

export interface KubeClient {
  readonly config: k8s.KubeConfig;
  /** The API server URL, for log lines and the source's name. */
  readonly server: string;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly coordination: k8s.CoordinationV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly authentication: k8s.AuthenticationV1Api;
}

/** `kubeconfig` = path to a kubeconfig file; '' = the default chain (in-cluster in a pod). */
export function connectKube(kubeconfig: string): KubeClient {
  const config = new k8s.KubeConfig();
  try {
    if (kubeconfig !== '') config.loadFromFile(kubeconfig);
    else config.loadFromDefault();
  } catch (e) {
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.INVALID_OPTION,
      `cannot load kubeconfig ${kubeconfig === '' ? '(default: $KUBECONFIG, ~/.kube/config, in-cluster)' : kubeconfig}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.INVALID_OPTION,
      `no Kubernetes cluster configured${kubeconfig === '' ? '' : ` in ${kubeconfig}`}: pass --kubeconfig <file> with a current-context, or run in a pod with a service account`,
    );
  }
  return {
    config,
    server: cluster.server,
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    coordination: config.makeApiClient(k8s.CoordinationV1Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    authentication: config.makeApiClient(k8s.AuthenticationV1Api),
  };
}
