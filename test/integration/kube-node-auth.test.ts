// Node credentials on Kubernetes: an agent's projected service-account token, checked with a
// TokenReview against the test API server, and the pod-on-node rule (the node is where the
// API says the token's pod runs), through the real CertificateService over gRPC. A waypoint pod's
// own token gets that pod's own identity and nothing else (issue 7).
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CertificateManager } from '../../common/identity/certificate-manager';
import { createKeyAndCsr } from '../../common/identity/csr';
import { verifySvidChain } from '../../common/identity/verify';
import { createCertificateServiceClient } from '../../common/proto/load';
import type { CreateCertificateResponse__Output } from '../../common/proto/generated/ambit/v1/CreateCertificateResponse';
import { rbacAllows } from '../../control-plane/kube/rbac';
import { eventually, startKubeControlPlane, type KubeControlPlane } from '../support/kube-api-server/control-plane-harness';
import { KubeApiServer } from '../support/kube-api-server/server';

const AGENT_USER = 'system:serviceaccount:ambit-system:ambit-agent';
const WAYPOINT_USER = 'system:serviceaccount:shop:waypoint';
const WAYPOINT_ID = 'spiffe://cluster.local/ns/shop/sa/waypoint';
const GATEWAY_NAME = 'gateway.networking.k8s.io/gateway-name';

let api: KubeApiServer;
let h: KubeControlPlane | undefined;
let certs: ReturnType<typeof createCertificateServiceClient> | undefined;

function podOn(name: string, ns: string, node: string, sa: string, labels?: Record<string, string>): Record<string, any> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { nodeName: node, serviceAccountName: sa, containers: [{ name: 'c', image: 'x' }] } };
}

function gateway(name: string, ns: string, gatewayClassName = 'ambit-waypoint'): Record<string, any> {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: ns }, spec: { gatewayClassName, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } };
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

describe('waypoint pods', () => {
  // The waypoint controller's pod: labelled with its Gateway's name, running as the Gateway's
  // service account, on node1 next to web-1 (whose identity the node agent may have, not it).
  const WAYPOINT_POD = 'waypoint-7c9d-x2kq';
  beforeEach(async () => {
    api.apply(gateway('waypoint', 'shop'));
    api.apply(podOn(WAYPOINT_POD, 'shop', 'node1', 'waypoint', { [GATEWAY_NAME]: 'waypoint', 'istio.io/dataplane-mode': 'none' }));
    await eventually('the waypoint pod and Gateway in the cache', () => h!.kube.informers.get('Pod', 'shop', WAYPOINT_POD) && h!.kube.informers.get('Gateway', 'shop', 'waypoint'));
  });

  const refused = (token: string, identity = WAYPOINT_ID): Promise<unknown> => request(token, identity).then(() => 'issued', (e: grpc.ServiceError) => e);

  it('a waypoint pod\'s own token gets its own identity, through the waypoint\'s certificate client reading the mounted token file', async () => {
    bindToken('waypoint-token', 'shop', WAYPOINT_POD, { username: WAYPOINT_USER });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-waypoint-token-'));
    const certsOfWaypoint = new CertificateManager({ address: h!.cp.grpcAddress, nodeToken: { file: path.join(dir, 'token') }, trustDomain: 'cluster.local' });
    try {
      fs.writeFileSync(path.join(dir, 'token'), 'waypoint-token\n', { mode: 0o600 });
      const cert = await certsOfWaypoint.acquire({ namespace: 'shop', serviceAccount: 'waypoint' });
      expect(cert.identity.uri).toBe(WAYPOINT_ID);
      expect(certsOfWaypoint.trustBundle()).toEqual([h!.cp.ca.rootCertificate]);
    } finally {
      certsOfWaypoint.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const audit = h!.logs.find((l) => l.audit === true && l.event === 'certificate_issued');
    expect(audit).toMatchObject({ node: 'node1', pod: `shop/${WAYPOINT_POD}`, identity: WAYPOINT_ID });
  });

  it('asking for any other identity, even one running on its node, is PERMISSION_DENIED', async () => {
    bindToken('waypoint-token', 'shop', WAYPOINT_POD, { username: WAYPOINT_USER });
    for (const other of ['spiffe://cluster.local/ns/shop/sa/web', 'spiffe://cluster.local/ns/ambit-system/sa/ambit-agent', 'spiffe://cluster.local/ns/other/sa/waypoint']) {
      expect(await refused('waypoint-token', other)).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        details: expect.stringContaining(`pod shop/${WAYPOINT_POD} (waypoint shop/waypoint) may only have its own identity, service account shop/waypoint, not `),
      });
    }
    // The node agent of the same node still gets web's identity: the narrowing is the waypoint's only.
    bindToken('agent-token.node1', 'ambit-system', 'ambit-agent-abcde');
    await expect(request('agent-token.node1', 'spiffe://cluster.local/ns/shop/sa/web')).resolves.toMatchObject({ certChain: expect.any(Array) });
    expect(h!.logs.filter((l) => l.audit === true && l.event === 'certificate_refused' && l.pod === `shop/${WAYPOINT_POD}`)).toHaveLength(3);
  });

  it('refuses the token of a pod that is not a waypoint: no label, a Gateway that does not exist, or of another class', async () => {
    api.apply(gateway('istio-wp', 'shop', 'istio-waypoint'));
    api.apply(podOn('web-2', 'shop', 'node1', 'web'));
    api.apply(podOn('fake-1', 'shop', 'node1', 'web', { [GATEWAY_NAME]: 'no-such-gateway' }));
    api.apply(podOn('fake-2', 'shop', 'node1', 'web', { [GATEWAY_NAME]: 'istio-wp' }));
    await eventually('the pods in the cache', () => ['web-2', 'fake-1', 'fake-2'].every((p) => h!.kube.informers.get('Pod', 'shop', p)) && h!.kube.informers.get('Gateway', 'shop', 'istio-wp'));
    const cases: Array<[string, string]> = [
      ['web-2', `it has no ${GATEWAY_NAME} label`],
      ['fake-1', `its ${GATEWAY_NAME} label names Gateway shop/no-such-gateway, which does not exist`],
      ['fake-2', 'Gateway shop/istio-wp has class istio-waypoint, not ambit-waypoint'],
    ];
    for (const [pod, why] of cases) {
      bindToken(`${pod}-token`, 'shop', pod, { username: 'system:serviceaccount:shop:web' });
      expect(await refused(`${pod}-token`, 'spiffe://cluster.local/ns/shop/sa/web')).toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
        details: expect.stringContaining(`system:serviceaccount:shop:web is not a node agent (allowed: ${AGENT_USER}), and its pod shop/${pod} is not a waypoint: ${why}`),
      });
    }
  });

  it('refuses a deleted waypoint pod\'s token at once, although its review is cached', async () => {
    bindToken('waypoint-token', 'shop', WAYPOINT_POD, { username: WAYPOINT_USER });
    await expect(request('waypoint-token', WAYPOINT_ID)).resolves.toMatchObject({ certChain: expect.any(Array) });
    api.remove('Pod', 'shop', WAYPOINT_POD);
    await eventually('the waypoint pod gone from the cache', () => h!.kube.informers.get('Pod', 'shop', WAYPOINT_POD) === undefined);
    expect(await refused('waypoint-token')).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining(`the token's pod shop/${WAYPOINT_POD} (uid `) });
    // A pod of the same name again (a new uid): the old pod's token is still not its credential.
    api.apply(podOn(WAYPOINT_POD, 'shop', 'node1', 'waypoint', { [GATEWAY_NAME]: 'waypoint' }));
    await eventually('the new pod in the cache', () => h!.kube.informers.get('Pod', 'shop', WAYPOINT_POD));
    expect(await refused('waypoint-token')).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('does not exist (any more)') });
    expect(api.requests.filter((r) => r.resource === 'authentication.k8s.io/tokenreviews')).toHaveLength(1);
  });

  it('the waypoint Deployment mounts a projected token for the CA\'s audience where AMBIT_NODE_TOKEN_FILE points', async () => {
    await h!.close();
    h = await startKubeControlPlane(api, { nodeAuth: { audience: 'mesh.example', agentServiceAccounts: ['ambit-system/ambit-agent'] } });
    certs?.close();
    certs = createCertificateServiceClient(h.cp.grpcAddress, grpc.credentials.createInsecure());
    // (The first control plane made it for audience "ambit"; this one brings it to its own.)
    const audienceOf = (d: Record<string, any> | undefined): unknown => d?.spec.template.spec.volumes?.[0]?.projected?.sources?.[0]?.serviceAccountToken?.audience;
    const deployment = await eventually('the waypoint Deployment for audience mesh.example', () => {
      const d = api.get('Deployment', 'shop', 'waypoint');
      return audienceOf(d) === 'mesh.example' ? d : undefined;
    });
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    const env = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    const volume = pod.volumes.find((v: { name: string }) => v.name === container.volumeMounts[0].name);
    expect(volume.projected.sources).toEqual([{ serviceAccountToken: { audience: 'mesh.example', expirationSeconds: 3600, path: 'token' } }]);
    expect(env.AMBIT_NODE_TOKEN_FILE).toBe(`${container.volumeMounts[0].mountPath}/token`);
    expect(pod.serviceAccountName).toBe('waypoint');
    expect(deployment.spec.template.metadata.labels).toMatchObject({ [GATEWAY_NAME]: 'waypoint' });
    // A token for that audience works; one for the old default does not.
    bindToken('waypoint-token', 'shop', WAYPOINT_POD, { username: WAYPOINT_USER, audiences: ['mesh.example'] });
    await expect(request('waypoint-token', WAYPOINT_ID)).resolves.toMatchObject({ certChain: expect.any(Array) });
    bindToken('default-audience', 'shop', WAYPOINT_POD, { username: WAYPOINT_USER, audiences: ['ambit'] });
    expect(await refused('default-audience')).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });
});
