/**
 * At SIGTERM: is Ambit being uninstalled from this node, or is the agent pod only being replaced?
 * The installer's DaemonSet answers (Istio's install-cni asks the same question):
 *
 *   DaemonSet exists, not being deleted   keep — an agent restart, a rollout, a node shutdown:
 *                                         the next agent pod finds the entry in place
 *   DaemonSet gone (404) or being deleted remove
 *   401/403, after an earlier successful  remove — the release's ServiceAccount or Role was
 *   read (verify)                         deleted with it (helm uninstall, namespace deletion)
 *   anything else (unreachable, 5xx,      keep — fail closed, and say how to remove it by hand
 *   timeout, never could read it)
 *
 * Keeping the entry on a node that has no agent any more blocks its pods (ADD fails closed);
 * removing it during a rollout lets pods start uncaptured. Only a clear answer removes it.
 */
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import { httpStatusOf } from '../../control-plane/sources/kube/api-errors';
import { CniInstallError, CniInstallErrorCodes } from './errors';

export interface StopDecision {
  readonly remove: boolean;
  readonly reason: string;
}

/** Reads the DaemonSet; throws as @kubernetes/client-node does (an ApiException with `code`). */
export type DaemonSetReader = (namespace: string, name: string) => Promise<{ metadata?: { deletionTimestamp?: Date | string } }>;

/** The reader over the Kubernetes API: `kubeconfig` or, when '', the default chain (in a pod: its token). */
export function kubeDaemonSetReader(kubeconfig: string): DaemonSetReader {
  const config = new k8s.KubeConfig();
  try {
    if (kubeconfig !== '') config.loadFromFile(kubeconfig);
    else config.loadFromDefault();
  } catch (e) {
    throw new CniInstallError(CniInstallErrorCodes.SETTINGS, `cannot load kubeconfig ${kubeconfig || '(default chain: $KUBECONFIG, ~/.kube/config, in-cluster)'}: ${(e as Error).message}`, { cause: e });
  }
  if (config.getCurrentCluster() === null) {
    throw new CniInstallError(CniInstallErrorCodes.SETTINGS, 'no Kubernetes cluster configured for the DaemonSet check: run in a pod with a service account token, pass --kubeconfig, or use --remove-on-stop always|never');
  }
  const apps = config.makeApiClient(k8s.AppsV1Api);
  return (namespace, name) => apps.readNamespacedDaemonSet({ namespace, name });
}

/** "HTTP 403: <the Status message>" or the error's first line (a timeout, ECONNREFUSED). */
function apiProblem(err: unknown): string {
  const status = httpStatusOf(err);
  let message: unknown;
  try {
    const body = (err as { body?: unknown }).body;
    message = (typeof body === 'string' ? (JSON.parse(body) as { message?: unknown }) : (body as { message?: unknown } | undefined))?.message;
  } catch {
    message = undefined;
  }
  const text = typeof message === 'string' && message !== '' ? message : ((err as Error)?.message ?? String(err)).split('\n')[0];
  return status === undefined ? text : `HTTP ${status}: ${text}`;
}

export class UninstallDetector {
  private readable = false;
  private warned = false;
  private readonly namespace: string;
  private readonly name: string;

  constructor(
    private readonly read: DaemonSetReader,
    /** "<namespace>/<name>" */
    daemonSet: string,
    private readonly log: Logger,
    private readonly timeoutMs = 5_000,
  ) {
    [this.namespace, this.name] = daemonSet.split('/');
  }

  private get what(): string {
    return `DaemonSet ${this.namespace}/${this.name}`;
  }

  /** One read, so that a refusal at stop can be told from a permission never granted. */
  async verify(): Promise<boolean> {
    try {
      await this.readWithTimeout();
      if (!this.readable) this.log.debug(`${this.what} is readable: the entry is removed when it is deleted`);
      this.readable = true;
    } catch (err) {
      // Once as a warning; the retries (verifyUntilReadable) at debug.
      this.log[this.warned ? 'debug' : 'warn'](
        { problem: apiProblem(err) },
        `cannot read ${this.what} (${apiProblem(err)}): until it can, deleting it may leave ambit-cni chained; the chart grants get on it (templates/cni-installer.yaml)`,
      );
      this.warned = true;
    }
    return this.readable;
  }

  /** verify() now and, until it succeeds, every `intervalMs` (the API may not be reachable yet at start); returns a cancel function. */
  verifyUntilReadable(intervalMs: number): () => void {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const attempt = (): void => {
      void this.verify().then((ok) => {
        if (!ok && !cancelled) timer = setTimeout(attempt, intervalMs);
      });
    };
    attempt();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }

  async decide(): Promise<StopDecision> {
    let ds: Awaited<ReturnType<DaemonSetReader>>;
    try {
      ds = await this.readWithTimeout();
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 404) return { remove: true, reason: `${this.what} is deleted` };
      if ((status === 401 || status === 403) && this.readable) {
        return { remove: true, reason: `${this.what} can no longer be read (HTTP ${status}): its ServiceAccount or Role was deleted with it` };
      }
      return { remove: false, reason: `reading ${this.what} failed (${apiProblem(err)}): cannot tell an uninstall from a restart, so ambit-cni stays chained` };
    }
    if (ds.metadata?.deletionTimestamp) return { remove: true, reason: `${this.what} is being deleted` };
    return { remove: false, reason: `${this.what} still exists (an agent restart or rollout): ambit-cni stays chained for the next agent pod` };
  }

  private async readWithTimeout(): Promise<Awaited<ReturnType<DaemonSetReader>>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the Kubernetes API within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([this.read(this.namespace, this.name), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
