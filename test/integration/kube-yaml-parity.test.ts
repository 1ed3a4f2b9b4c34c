// The Kubernetes source and the YAML directory source feed the model the same input: one set of
// manifests (Istio security and networking, Gateway API, Ambit's CRDs, core objects and an
// EndpointSlice), served once from a directory and once through the test API server (which adds
// what a real one adds: uids, resourceVersions, defaults, list items without apiVersion/kind),
// gives equal resources.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { startControlPlane, type ControlPlane } from '../../control-plane/control-plane';
import { YamlDirectorySource } from '../../control-plane/sources/yaml-directory-source';
import { startKubeControlPlane, type KubeControlPlane } from '../support/kube-api-server/control-plane-harness';
import { KubeApiServer } from '../support/kube-api-server/server';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web, version: v1}}
spec:
  nodeName: node1
  serviceAccountName: web
  containers: [{name: app, image: example/web:1, ports: [{name: http, containerPort: 8080}]}]
status: {phase: Running, podIP: 10.1.0.11, podIPs: [{ip: 10.1.0.11}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: shop, labels: {app: db, istio.io/dataplane-mode: none}}
spec:
  nodeName: node2
  serviceAccountName: db
  containers: [{name: db, image: example/db:1, ports: [{name: tcp-db, containerPort: 5432}]}]
status: {phase: Running, podIP: 10.1.0.21, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.10, selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop, labels: {istio.io/use-waypoint: none}}
spec: {clusterIP: 10.96.0.11, selector: {app: db}, ports: [{name: tcp-db, port: 5432, targetPort: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: billing, namespace: shop}
spec: {clusterIP: 10.96.0.12, ports: [{name: http, port: 80, targetPort: 8080}, {name: tcp-admin, port: 9000}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: billing-external, namespace: shop, labels: {kubernetes.io/service-name: billing, endpointslice.kubernetes.io/managed-by: staff}}
addressType: IPv4
ports: [{name: http, port: 18080, protocol: TCP}, {name: tcp-admin, port: 9000}]
endpoints:
- addresses: [192.0.2.10]
  conditions: {ready: true}
- addresses: [192.0.2.11]
  conditions: {ready: false}
- addresses: [10.1.0.11]
  targetRef: {kind: Pod, namespace: shop, name: web-1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
status: {addresses: [{type: IPAddress, value: 10.96.0.99}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  action: ALLOW
  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}], to: [{operation: {ports: ["5432"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web-get, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  action: ALLOW
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  jwtRules: [{issuer: https://issuer.example, jwksUri: https://issuer.example/jwks}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: shop}
spec: {host: web, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}, connectionPool: {tcp: {connectTimeout: 2s}}}}
---
apiVersion: ambit.dev/v1alpha1
kind: LocalRateLimit
metadata: {name: web-limit, namespace: shop}
spec: {maxTokens: 10, fillInterval: 1s}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters: [{type: ExtensionRef, extensionRef: {group: ambit.dev, kind: LocalRateLimit, name: web-limit}}]
    timeouts: {request: 3s}
    backendRefs: [{name: web, port: 80}]
`;

const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
};

let api: KubeApiServer | undefined;
let kube: KubeControlPlane | undefined;
let yaml: ControlPlane | undefined;

afterEach(async () => {
  await kube?.close();
  await yaml?.close();
  await api?.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const contents = (cp: ControlPlane): Map<string, unknown> => new Map([...cp.model.resources.all()].map((r) => [r.id, r.resource]));

it('serves the same resources from the API as from a YAML directory', async () => {
  const dir = tmp('ambit-parity-yaml-');
  fs.writeFileSync(path.join(dir, 'mesh.yaml'), MANIFESTS);
  const state = tmp('ambit-parity-state-');
  yaml = await startControlPlane({
    sources: [new YamlDirectorySource({ dir })],
    stateDir: state,
    nodeAuthenticator: new BootstrapTokenAuthenticator(state),
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
  });
  api = await KubeApiServer.start();
  for (const doc of YAML.parseAllDocuments(MANIFESTS)) api.apply(doc.toJSON() as Record<string, unknown> as never);
  kube = await startKubeControlPlane(api);

  const fromYaml = contents(yaml);
  const fromKube = contents(kube.cp);
  // Every kind made it through, not just an empty model on both sides.
  expect([...new Set([...fromYaml.keys()].map((k) => k.split(':')[0]))].sort()).toEqual(
    expect.arrayContaining(['AUTHORIZATION', 'PEER_AUTHENTICATION', 'REQUEST_AUTHENTICATION', 'ROUTE', 'SERVICE', 'WORKLOAD']),
  );
  expect([...fromKube.keys()].sort()).toEqual([...fromYaml.keys()].sort());
  // The Service without a selector has the endpoints of its EndpointSlice (issue 7).
  expect((fromYaml.get('SERVICE:shop/billing') as { service: { endpoints: unknown[] } }).service.endpoints).toEqual([
    { workloadUid: 'Kubernetes//Pod/shop/web-1', ports: { 80: 18080, 9000: 9000 } },
    { address: '192.0.2.10', ports: { 80: 18080, 9000: 9000 } },
  ]);
  // One field legitimately differs: the API server stamps creationTimestamp (routes carry it, for
  // Gateway API's oldest-wins conflict rule); the YAML has none.
  const route = fromKube.get('ROUTE:HTTPRoute/shop/web') as { route: { creationTimestampMs: number } };
  expect(route.route.creationTimestampMs).toBe(Date.parse(api.get('HTTPRoute', 'shop', 'web')?.metadata.creationTimestamp));
  const stamped = (r: unknown): unknown => ((r as { route?: object }).route ? { ...(r as object), route: { ...(r as { route: object }).route, creationTimestampMs: 0 } } : r);
  for (const [id, resource] of fromYaml) expect([id, stamped(fromKube.get(id))]).toEqual([id, resource]);
  expect(yaml.problems()).toEqual([]);
  expect(kube.cp.problems()).toEqual([]);
});
