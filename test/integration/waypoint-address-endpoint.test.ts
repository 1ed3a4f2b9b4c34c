/**
 * Issue 7: an address endpoint (an EndpointSlice address of a Service without a selector that is
 * no known pod: a database outside the cluster) reaches the waypoint as an Endpoint with an
 * address and no workload. The waypoint serves it as a plain upstream: HTTP/1 straight to
 * address:port, no HBONE and no certificate needed; a mesh endpoint of the same service still
 * gets HBONE.
 */
import http from 'node:http';
import type net from 'node:net';
import { HbonePool } from '../../common/hbone/pool';
import type { Resource__Output } from '../../common/proto/generated/ambit/v1/Resource';
import type { Service, Workload } from '../../waypoint/model/waypoint-view';
import { WaypointView } from '../../waypoint/model/waypoint-view';
import { UpstreamConnector } from '../../waypoint/upstream/connector';
import { UpstreamExchanges } from '../../waypoint/upstream/upstream-exchange';

const meshPod: Workload = {
  uid: 'Kubernetes//Pod/shop/db-0',
  name: 'db-0',
  namespace: 'shop',
  serviceAccount: 'db',
  node: 'node1',
  addresses: ['10.1.0.7'],
  labels: {},
  protocol: 'HBONE',
  waypoint: null,
  ready: true,
  trustDomain: 'cluster.local',
  canonicalName: 'db',
  canonicalRevision: 'latest',
  workloadName: 'db',
  authorizationPolicies: [],
  isWaypoint: false,
};

function view(appPort: number): WaypointView {
  const svc: Service = {
    name: 'db',
    namespace: 'shop',
    hostname: 'db.shop.svc.cluster.local',
    vips: ['10.96.0.50'],
    ports: [{ servicePort: 80, targetPort: 80, name: 'http', appProtocol: 'http' }],
    endpoints: [
      { workloadUid: meshPod.uid, ports: { 80: 8080 }, address: '' },
      { workloadUid: '', ports: { 80: appPort }, address: '127.0.0.1' },
    ],
    waypoint: null,
    labels: {},
  };
  const resources: Resource__Output[] = [
    { key: null, kind: 'workload', workload: meshPod } as Resource__Output,
    { key: null, kind: 'service', service: svc } as Resource__Output,
  ];
  return new WaypointView('1', resources, { namespace: 'shop', name: 'waypoint', rootNamespace: 'istio-system' });
}

let app: http.Server | undefined;
let pool: HbonePool | undefined;
let exchanges: UpstreamExchanges | undefined;

afterEach(async () => {
  exchanges?.close();
  pool?.close();
  if (app !== undefined) {
    app.closeAllConnections();
    await new Promise((r) => app!.close(r));
  }
  app = exchanges = pool = undefined;
});

it('sends HTTP to an address endpoint as a plain upstream, and keeps HBONE for the mesh endpoint', async () => {
  app = http.createServer((req, res) => res.end(`external ${req.url ?? ''} host=${req.headers.host ?? ''}`));
  await new Promise<void>((r) => app!.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as net.AddressInfo).port;
  const v = view(appPort);
  const svc = v.serviceAt('10.96.0.50')!;

  const endpoints = v.endpointsOf(svc, 80);
  expect(endpoints).toEqual([
    expect.objectContaining({ uid: meshPod.uid, address: '10.1.0.7', port: 8080, hbone: true, workload: meshPod }),
    { uid: 'address:127.0.0.1', address: '127.0.0.1', port: appPort, hbone: false },
  ]);
  expect(v.endpointKeys()).toEqual(new Set([`${meshPod.uid}|10.1.0.7|8080|h`, `address:127.0.0.1|127.0.0.1|${appPort}|p`]));

  // No certificate at all: an address endpoint never needs one (HBONE would refuse without it).
  pool = new HbonePool();
  exchanges = new UpstreamExchanges(new UpstreamConnector({ pool, certificate: () => undefined, connectTimeoutMs: 2_000 }));
  const res = await exchanges.send(endpoints[1], 'http1', { method: 'GET', path: '/rows', authority: 'db.shop.svc.cluster.local', headers: {}, body: undefined, timeoutMs: 5_000 });
  let body = '';
  for await (const chunk of res.body) body += (chunk as Buffer).toString();
  expect({ status: res.status, body }).toEqual({ status: 200, body: 'external /rows host=db.shop.svc.cluster.local' });

  await expect(exchanges.send(endpoints[0], 'http1', { method: 'GET', path: '/', authority: 'db', headers: {}, body: undefined, timeoutMs: 2_000 })).rejects.toMatchObject({
    kind: 'connect-failure',
    message: expect.stringMatching(/no certificate yet; it cannot open HBONE/),
  });
});
