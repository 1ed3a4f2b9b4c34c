/**
 * Node credentials on Kubernetes: the caller presents its projected ServiceAccount token
 * (audience "ambit", bound to its pod) as `authorization: Bearer <token>`. The token is checked
 * with a TokenReview (the API server verifies signature, expiry, audience, and that the pod it is
 * bound to still exists), then against the pod the token is bound to, as the informer cache has
 * it (same uid): the node is not what the caller claims but where the API says that pod runs.
 * Two callers are accepted:
 *
 * - the **node agent** (its service account is one of agentServiceAccounts): the CA then issues
 *   it the identities of pods on that node (certificate-authority.ts);
 * - a **waypoint pod** (label gateway.networking.k8s.io/gateway-name naming a Gateway of class
 *   ambit-waypoint in its namespace, as the waypoint controller's Deployment labels it): the CA
 *   issues it its own service account's identity only, never another identity on its node
 *   (ca/identity-authorization.ts). The label alone grants nothing more than the pod's own
 *   identity, which its token already proves.
 *
 * TokenReview answers are cached for a short time by token hash (callers come at every
 * certificate refresh, and one review per call would load the API server); the pod check runs on
 * every call, so a deleted or moved pod's token stops working at once.
 */
import { createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { AuthenticationV1Api, V1UserInfo } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import { GATEWAY_NAME_LABEL } from '../../cli/waypoint/waypoint-manifests';
import { bearerToken, unauthenticated, type AuthenticatedNode, type NodeAuthenticator } from '../auth/node-authenticator';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import { describeApiError } from '../sources/kube/api-errors';
import type { KubeInformers } from '../sources/kube/kube-informers';
import { AMBIT_WAYPOINT_CLASS } from './waypoint-objects';

const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';
const NODE_NAME = 'authentication.kubernetes.io/node-name';
const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

interface PodObject {
  metadata?: { uid?: string; labels?: Record<string, string> };
  spec?: { nodeName?: string; serviceAccountName?: string };
}

export interface TokenReviewAuthenticatorOptions {
  authentication: AuthenticationV1Api;
  informers: KubeInformers;
  /** The audience agents' and waypoints' tokens are issued for (the chart's mesh.tokenAudience). */
  audience: string;
  /** "<namespace>/<name>" of the service accounts node agents run as. */
  agentServiceAccounts: readonly string[];
  logger: Logger;
  /** How long a TokenReview answer is reused (default 30 s; tokens live an hour or more). */
  cacheTtlMs?: number;
}

interface Review {
  user: V1UserInfo;
  expires: number;
}

export class TokenReviewAuthenticator implements NodeAuthenticator {
  private readonly cache = new Map<string, Review>();
  private readonly agents: Set<string>;
  private readonly log: Logger;

  constructor(private readonly opts: TokenReviewAuthenticatorOptions) {
    this.agents = new Set(opts.agentServiceAccounts.map((sa) => `system:serviceaccount:${sa.replace('/', ':')}`));
    this.log = opts.logger.child({ component: 'token-review' });
  }

  async authenticate(metadata: Metadata): Promise<AuthenticatedNode> {
    const token = bearerToken(metadata);
    const user = await this.review(token);
    const username = user.username ?? '';
    const account = SERVICE_ACCOUNT_USER.exec(username);
    const isAgent = this.agents.has(username);
    if (account === null) {
      throw unauthenticated(`${username || 'the token\'s user'} is not a service account; present the projected service-account token of a node agent or a waypoint pod`);
    }
    const [, namespace, serviceAccount] = account;
    const podName = user.extra?.[POD_NAME]?.[0];
    const podUid = user.extra?.[POD_UID]?.[0];
    if (podName === undefined || podUid === undefined) {
      throw unauthenticated(`the token is not bound to a pod; mount a projected serviceAccountToken (audience "${this.opts.audience}") in the agent's or waypoint's pod and present that`);
    }
    const pod = this.opts.informers.get('Pod', namespace, podName) as PodObject | undefined;
    if (pod === undefined || pod.metadata?.uid !== podUid) {
      throw unauthenticated(`the token's pod ${namespace}/${podName} (uid ${podUid}) does not exist (any more); the caller must use its current pod's token`);
    }
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '') throw unauthenticated(`the token's pod ${namespace}/${podName} is not scheduled on a node yet`);
    const claimed = user.extra?.[NODE_NAME]?.[0];
    if (claimed !== undefined && claimed !== node) {
      throw unauthenticated(`the token was issued on node ${claimed} but its pod ${namespace}/${podName} runs on ${node}`);
    }
    if (isAgent) return { node };

    // Not the agent: only a waypoint pod may call with its own token, and then only for itself.
    const gateway = this.waypointOf(namespace, pod);
    if (typeof gateway !== 'string') {
      throw unauthenticated(
        `${username} is not a node agent (allowed: ${[...this.agents].join(', ')}), and its pod ${namespace}/${podName} is not a waypoint: ${gateway.why}; ` +
          'only node agents and waypoint pods may ask for certificates',
      );
    }
    if (pod.spec?.serviceAccountName !== undefined && pod.spec.serviceAccountName !== serviceAccount) {
      throw unauthenticated(`the token's user ${username} is not the service account of its pod ${namespace}/${podName} (${pod.spec.serviceAccountName})`);
    }
    return { node, workload: { namespace, pod: podName, serviceAccount, kind: `waypoint ${namespace}/${gateway}` } };
  }

  /** The name of the ambit-waypoint Gateway `pod` serves, or why it serves none. */
  private waypointOf(namespace: string, pod: PodObject): string | { why: string } {
    const name = pod.metadata?.labels?.[GATEWAY_NAME_LABEL];
    if (name === undefined || name === '') return { why: `it has no ${GATEWAY_NAME_LABEL} label` };
    const gw = this.opts.informers.get('Gateway', namespace, name) as { spec?: { gatewayClassName?: string } } | undefined;
    if (gw === undefined) return { why: `its ${GATEWAY_NAME_LABEL} label names Gateway ${namespace}/${name}, which does not exist` };
    const cls = gw.spec?.gatewayClassName;
    if (cls !== AMBIT_WAYPOINT_CLASS) return { why: `Gateway ${namespace}/${name} has class ${cls ?? '(none)'}, not ${AMBIT_WAYPOINT_CLASS}` };
    return name;
  }

  private async review(token: string): Promise<V1UserInfo> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expires > now) return cached.user;
    let status;
    try {
      ({ status } = await this.opts.authentication.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.opts.audience] } },
      }));
    } catch (err) {
      // Not the caller's fault: UNAVAILABLE, so the agent retries instead of giving up.
      const message = describeApiError('TokenReview', err);
      this.log.warn({ err, code: ControlPlaneErrorCodes.KUBE_API }, message);
      throw new ControlPlaneError(ControlPlaneErrorCodes.SOURCE_UNAVAILABLE, `cannot check the node credential: ${message}`, { cause: err });
    }
    if (status?.authenticated !== true || status.user === undefined) {
      throw unauthenticated(`the Kubernetes API refused the token (${status?.error ?? 'not authenticated'}); present the agent's or waypoint pod's projected service-account token with audience "${this.opts.audience}"`);
    }
    if (!(status.audiences ?? []).includes(this.opts.audience)) {
      throw unauthenticated(`the token is not for audience "${this.opts.audience}"`);
    }
    for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    this.cache.set(key, { user: status.user, expires: now + (this.opts.cacheTtlMs ?? 30_000) });
    return status.user;
  }
}
