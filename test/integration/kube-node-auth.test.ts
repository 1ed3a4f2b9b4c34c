// Node credentials on Kubernetes: an agent's projected service-account token, checked with a
// TokenReview against the test API server, and the pod-on-node rule (the node is where the
// API says the token's pod runs), through the real CertificateService over gRPC.
import * as grpc from '@grpc/grpc-js';
import { createKeyAndCsr } from '../../common/identity/csr';
import { verifySvidChain } from '../../common/identity/verify';
import { createCertificateServiceClient } from '../../common/proto/load';
import type { CreateCertificateResponse__Output } from '../../common/proto/generated/ambit/v1/CreateCertificateResponse';
import { rbacAllows } from '../../control-plane/kube/rbac';
import { eventually, startKubeControlPlane, type KubeControlPlane } from '../support/kube-api-server/control-plane-harness';
import { KubeApiServer } from '../support/kube-api-server/server';

const AGENT_USER = 'system:serviceaccount:ambit-system:ambit-agent';

let api: KubeApiServer;
let h: KubeControlPlane | undefined;
let certs: ReturnType<typeof createCertificateServiceClient> | undefined;

function podOn(name: string, ns: string, node: string, sa: string): Record<string, any> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: node, serviceAccountName: sa, containers: [{ name: 'c', image: 'x' }] } };
}

/** Registers `token` as the projected token of pod ns/name (audience ambit unless said otherwise). */
function bindToken(token: string, ns: string, name: string, opts: { username?: string; audiences?: string[] } = {}): void {
  const pod = api.get('Pod', ns, name);
  api.tokenReviews.register(
    token,
    {
      username: opts.username ?? AGENT_USER,
      groups: ['system:serviceaccounts'],
      extra: { 'authentication.kubernetes.io/pod-name': [name], 'authentication.kubernetes.io/pod-uid': [pod?.metadata.uid ?? 'gone'], 'authentication.kubernetes.io/node-name': [pod?.spec.nodeName ?? ''] },
    },
    opts.audiences ?? ['ambit'],
  );
}

function request(token: string, identity: string): Promise<CreateCertificateResponse__Output> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return createKeyAndCsr(identity).then(
    ({ csrPem }) =>
      new Promise((resolve, reject) => certs!.CreateCertificate({ csr: csrPem, identity, validitySeconds: 0 }, md, (err, res) => (err ? reject(err) : resolve(res!)))),
  );
}

beforeEach(async () => {
  api = await KubeApiServer.start();
  api.apply(podOn('ambit-agent-abcde', 'ambit-system', 'node1', 'ambit-agent'));
  api.apply(podOn('web-1', 'shop', 'node1', 'web'));
  api.apply(podOn('db-1', 'shop', 'node2', 'db'));
  api.apply(podOn('intruder', 'shop', 'node1', 'web'));
  h = await startKubeControlPlane(api);
  certs = createCertificateServiceClient(h.cp.grpcAddress, grpc.credentials.createInsecure());
});

afterEach(async () => {
  certs?.close();
  await h?.close();
  await api.close();
});

it('issues an agent the identities of pods on its own node, as the API places its pod', async () => {
  bindToken('agent-token.node1', 'ambit-system', 'ambit-agent-abcde');
  const id = 'spiffe://cluster.local/ns/shop/sa/web';
  const res = await request('agent-token.node1', id);
  expect((await verifySvidChain(res.certChain, res.trustBundle)).identity.uri).toBe(id);
  // db-1 runs on node2: not this agent's to have.
  await expect(request('agent-token.node1', 'spiffe://cluster.local/ns/shop/sa/db')).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  const reviews = api.requests.filter((r) => r.resource === 'authentication.k8s.io/tokenreviews');
  expect(reviews).toHaveLength(1); // the second call reused the review (the pod check ran again)
  for (const r of reviews) expect(rbacAllows(r.verb, r.resource)).toBe(true);
});

it('refuses tokens that are unknown, for another audience, of another service account, or of a pod that is gone', async () => {
  const refused = (token: string): Promise<unknown> => request(token, 'spiffe://cluster.local/ns/shop/sa/web').then(() => 'issued', (e: grpc.ServiceError) => e);
  expect(await refused('no-such-token')).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('the Kubernetes API refused the token (invalid bearer token)') });

  bindToken('wrong-audience', 'ambit-system', 'ambit-agent-abcde', { audiences: ['https://kubernetes.default.svc'] });
  expect(await refused('wrong-audience')).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('audience') });

  // A workload's own token: it runs on node1 too, but it is not a node agent.
  bindToken('workload-token', 'shop', 'intruder', { username: 'system:serviceaccount:shop:web' });
  expect(await refused('workload-token')).toMatchObject({
    code: grpc.status.UNAUTHENTICATED,
    details: expect.stringContaining('system:serviceaccount:shop:web is not a node agent'),
  });

  bindToken('old-agent-token', 'ambit-system', 'ambit-agent-abcde');
  expect(await refused('old-agent-token')).toBe('issued');
  api.remove('Pod', 'ambit-system', 'ambit-agent-abcde');
  await eventually('the agent pod gone from the cache', () => h!.kube.informers.get('Pod', 'ambit-system', 'ambit-agent-abcde') === undefined);
  // The review is cached, but the pod-on-node check is not: the credential dies with its pod.
  expect(await refused('old-agent-token')).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('does not exist (any more)') });
});

it('answers UNAVAILABLE (the agent retries) when the TokenReview itself fails', async () => {
  bindToken('agent-token', 'ambit-system', 'ambit-agent-abcde');
  api.failRequests({ resource: 'authentication.k8s.io/tokenreviews' }, 503, 1, 'ServiceUnavailable');
  await expect(request('agent-token', 'spiffe://cluster.local/ns/shop/sa/web')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('TokenReview failed: HTTP 503') });
  await expect(request('agent-token', 'spiffe://cluster.local/ns/shop/sa/web')).resolves.toMatchObject({ certChain: expect.any(Array) });
});
