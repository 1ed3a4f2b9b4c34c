/**
 * Node credentials on Kubernetes: the agent presents its projected ServiceAccount token
 * (audience "ambit", bound to its pod) as `authorization: Bearer <token>`. The token is checked
 * with a TokenReview (the API server verifies signature, expiry, audience, and that the pod it is
 * bound to still exists), then the pod-on-node rule: the node is not what the caller claims but
 * where the API says the token's pod runs (the pod in the informer cache, same uid). Only the
 * agent's service account may act as a node; the CA then issues only identities of pods on that
 * node (certificate-authority.ts).
 *
 * TokenReview answers are cached for a short time by token hash (agents call at every certificate
 * refresh, and one review per call would load the API server); the pod check runs on every call,
 * so a deleted or moved agent pod loses its node at once.
 */
import { createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { AuthenticationV1Api, V1UserInfo } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import { bearerToken, unauthenticated, type AuthenticatedNode, type NodeAuthenticator } from '../auth/node-authenticator';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import { describeApiError } from '../sources/kube/api-errors';
import type { KubeInformers } from '../sources/kube/kube-informers';

const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';
const NODE_NAME = 'authentication.kubernetes.io/node-name';

export interface TokenReviewAuthenticatorOptions {
  authentication: AuthenticationV1Api;
  informers: KubeInformers;
  /** The audience agents' tokens are issued for (the chart's mesh.tokenAudience). */
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
    if (!this.agents.has(user.username ?? '')) {
      throw unauthenticated(`${user.username ?? 'the token\'s user'} is not a node agent (allowed: ${[...this.agents].join(', ')}); only the agent's service-account token is a node credential`);
    }
    const podName = user.extra?.[POD_NAME]?.[0];
    const podUid = user.extra?.[POD_UID]?.[0];
    if (podName === undefined || podUid === undefined) {
      throw unauthenticated('the token is not bound to a pod; mount a projected serviceAccountToken (audience ' + `"${this.opts.audience}") in the agent pod and present that`);
    }
    const namespace = (user.username ?? '').split(':')[2];
    const pod = this.opts.informers.get('Pod', namespace, podName) as { metadata?: { uid?: string }; spec?: { nodeName?: string } } | undefined;
    if (pod === undefined || pod.metadata?.uid !== podUid) {
      throw unauthenticated(`the token's pod ${namespace}/${podName} (uid ${podUid}) does not exist (any more); the agent must use its current pod's token`);
    }
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '') throw unauthenticated(`the token's pod ${namespace}/${podName} is not scheduled on a node yet`);
    const claimed = user.extra?.[NODE_NAME]?.[0];
    if (claimed !== undefined && claimed !== node) {
      throw unauthenticated(`the token was issued on node ${claimed} but its pod ${namespace}/${podName} runs on ${node}`);
    }
    return { node };
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
      throw unauthenticated(`the Kubernetes API refused the token (${status?.error ?? 'not authenticated'}); present the agent's projected service-account token with audience "${this.opts.audience}"`);
    }
    if (!(status.audiences ?? []).includes(this.opts.audience)) {
      throw unauthenticated(`the token is not for audience "${this.opts.audience}"`);
    }
    for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    this.cache.set(key, { user: status.user, expires: now + (this.opts.cacheTtlMs ?? 30_000) });
    return status.user;
  }
}
