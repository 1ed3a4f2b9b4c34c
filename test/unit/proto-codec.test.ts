// common/proto/codec.ts: WatchResponses assembled from pre-encoded Resources must be exactly what
// the ordinary encoder would produce, and decode the way proto-loader (the gRPC path) decodes.
import {
  assembleWatchResponse,
  concatWatchResponse,
  decodeResource,
  decodeResourceKey,
  decodeWatchResponse,
  decodeWatchResponseReference,
  encodeResource,
  encodeResourceKey,
  encodeWatchResponse,
  frameRepeated,
  watchResponseFields,
  wireResource,
} from '../../common/proto/codec';
import { naturalKey } from '../../common/proto/wire-form';
import { configServiceDefinition } from '../../common/proto/load';
import type { Resource } from '../../common/proto/generated/ambit/v1/Resource';
import type { ResourceKey } from '../../common/proto/generated/ambit/v1/ResourceKey';
import type { WatchResponse } from '../../common/proto/generated/ambit/v1/WatchResponse';

/** One resource of every kind, with maps, enums (as names and numbers), int64, nested oneofs. */
function sampleResources(): Resource[] {
  return [
    {
      key: { type: 'WORKLOAD', name: 'Kubernetes/Pod/default/web-0' },
      workload: {
        uid: 'Kubernetes/Pod/default/web-0',
        name: 'web-0',
        namespace: 'default',
        serviceAccount: 'web',
        node: 'node1',
        addresses: ['10.0.0.5', 'fd00::5'],
        labels: { app: 'web', 'version': 'v1', 'ünïcødé': '✓' },
        protocol: 'HBONE',
        waypoint: { name: 'waypoint', namespace: 'default', addresses: ['10.0.9.9'], hostname: 'waypoint.default.svc.cluster.local', hbonePort: 15008 },
        ready: true,
        trustDomain: 'cluster.local',
        authorizationPolicies: ['default/allow-web'],
      },
    },
    {
      key: { type: 'SERVICE', name: 'default/web' },
      service: {
        name: 'web',
        namespace: 'default',
        hostname: 'web.default.svc.cluster.local',
        vips: ['10.96.0.10'],
        ports: [{ servicePort: 80, targetPort: 8080, name: 'http', appProtocol: 'http' }],
        endpoints: [{ workloadUid: 'Kubernetes/Pod/default/web-0', ports: { 80: 8080 } }],
      },
    },
    {
      key: { type: 'AUTHORIZATION', name: 'default/allow-web' },
      authorization: {
        name: 'allow-web',
        namespace: 'default',
        scope: 2,
        action: 'DENY',
        selector: { app: 'web' },
        l4Rules: [{ from: [{ principals: [{ exact: 'spiffe://cluster.local/ns/default/sa/client' }] }], to: [{ ports: [80, 443] }] }],
        l7Rules: [{ to: [{ paths: [{ prefix: '/api/' }], methods: [{ exact: 'GET' }] }], when: [{ key: 'request.headers[x-user]', values: [{ presence: true }] }] }],
        hasL7: true,
      },
    },
    {
      key: { type: 'PEER_AUTHENTICATION', name: 'default/strict' },
      peerAuthentication: { name: 'strict', namespace: 'default', scope: 'NAMESPACE', mode: 'STRICT', portLevelMtls: { 8080: 'PERMISSIVE' } },
    },
    {
      key: { type: 'REQUEST_AUTHENTICATION', name: 'default/jwt' },
      requestAuthentication: {
        name: 'jwt',
        namespace: 'default',
        scope: 'TARGET_REFS',
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
        jwtRules: [{ issuer: 'https://issuer.example', audiences: ['web'], fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }], timeoutMs: 5000 }],
      },
    },
    {
      key: { type: 'ROUTE', name: 'default/web-route' },
      route: {
        name: 'web-route',
        namespace: 'default',
        kind: 'HTTP',
        parents: [{ serviceName: 'web', serviceNamespace: 'default', serviceHostname: 'web.default.svc.cluster.local' }],
        rules: [
          {
            matches: [{ path: { type: 'PATH_PREFIX', value: '/' }, headers: [{ type: 'EXACT', name: 'x-canary', value: '1' }] }],
            backendRefs: [{ serviceName: 'web-v2', serviceNamespace: 'default', port: 80, weight: 10 }],
            filters: [{ type: 'RequestMirror', requestMirror: { backend: { serviceName: 'shadow' }, percent: 12.5 } }],
            timeouts: { requestMs: 1500 },
            retry: { codes: [502, 503], attempts: 3, backoffMs: 25 },
          },
        ],
        // int64 beyond 2^32: exercises the long conversion (longs: Number).
        creationTimestampMs: 1_700_000_000_123,
      },
    },
    {
      key: { type: 'DESTINATION_POLICY', name: 'default/web-dr' },
      destinationPolicy: {
        name: 'web-dr',
        namespace: 'default',
        host: 'web.default.svc.cluster.local',
        trafficPolicy: {
          loadBalancer: { consistentHash: { httpHeaderName: 'x-user', ringHashMinimumRingSize: 1024 } },
          retryBudget: { budgetPercent: 20.5, minRetryConcurrency: 3 },
        },
        subsets: [{ name: 'v1', labels: { version: 'v1' } }],
      },
    },
  ];
}

/** A resource big enough that its length prefix needs a 3-byte varint (>= 16384 bytes). */
function bigWorkload(): Resource {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 600; i++) labels[`label-${i}`] = `value-${i}-${'x'.repeat(20)}`;
  return { key: { type: 'WORKLOAD', name: 'big' }, workload: { uid: 'big', name: 'big', labels } };
}

const removedKeys: ResourceKey[] = [
  { type: 'ROUTE', name: 'default/old-route' },
  { type: 'WORKLOAD', name: 'Kubernetes/Pod/default/web-9' },
];

describe('codec round trips', () => {
  it('decodes every resource kind back to what proto-loader would produce', () => {
    const viaGrpc = configServiceDefinition().Watch.responseDeserialize;
    for (const r of sampleResources()) {
      const decoded = decodeResource(encodeResource(r));
      expect(decoded.key).toEqual(r.key);
      expect(decoded.kind).toBe(Object.keys(r).find((k) => k !== 'key'));
      // The gRPC path (proto-loader with PROTO_OPTIONS) must agree field for field.
      const viaLoader = viaGrpc(encodeWatchResponse({ version: 'v', added: [r] }));
      expect(viaLoader.added[0]).toEqual(decoded);
    }
  });

  it('keeps enums as names, int64 as numbers and maps as objects', () => {
    const [workload, , authz, peer, , route] = sampleResources().map((r) => decodeResource(encodeResource(r)));
    expect(workload.workload?.protocol).toBe('HBONE');
    expect(workload.workload?.labels).toEqual({ app: 'web', version: 'v1', 'ünïcødé': '✓' });
    expect(authz.authorization?.scope).toBe('WORKLOAD_SELECTOR');
    expect(peer.peerAuthentication?.portLevelMtls).toEqual({ 8080: 'PERMISSIVE' });
    expect(route.route?.creationTimestampMs).toBe(1_700_000_000_123);
  });

  it('round-trips resource keys and whole responses', () => {
    for (const k of removedKeys) expect(decodeResourceKey(encodeResourceKey(k))).toEqual(k);
    const response: WatchResponse = { version: 'abc-1', snapshot: true, added: sampleResources(), removed: removedKeys };
    const decoded = decodeWatchResponse(encodeWatchResponse(response));
    expect(decoded.version).toBe('abc-1');
    expect(decoded.snapshot).toBe(true);
    expect(decoded.added.map((r) => r.key)).toEqual(sampleResources().map((r) => r.key));
    expect(decoded.updated).toEqual([]);
    expect(decoded.removed).toEqual(removedKeys);
  });
});

describe('concatenated WatchResponse', () => {
  const resources = [...sampleResources(), bigWorkload()];

  it('is byte-identical to a normal encode when every field is set', () => {
    const added = resources.slice(0, 4);
    const updated = resources.slice(4);
    const normal = encodeWatchResponse({ version: 'f00d-42', snapshot: true, added, updated, removed: removedKeys });
    const concatenated = concatWatchResponse({
      version: 'f00d-42',
      snapshot: true,
      added: added.map(encodeResource),
      updated: updated.map(encodeResource),
      removed: removedKeys.map(encodeResourceKey),
    });
    expect(concatenated.equals(normal)).toBe(true);
  });

  it('decodes identically to a normal encode (delta without snapshot flag)', () => {
    const normal = encodeWatchResponse({ version: 'f00d-43', snapshot: false, updated: resources, removed: removedKeys });
    const concatenated = concatWatchResponse({
      version: 'f00d-43',
      snapshot: false,
      updated: resources.map(encodeResource),
      removed: removedKeys.map(encodeResourceKey),
    });
    expect(decodeWatchResponse(concatenated)).toEqual(decodeWatchResponse(normal));
    const viaGrpc = configServiceDefinition().Watch.responseDeserialize;
    expect(viaGrpc(concatenated)).toEqual(viaGrpc(normal));
  });

  it('handles empty sections and an empty version like the encoder', () => {
    const normal = decodeWatchResponse(encodeWatchResponse({}));
    expect(decodeWatchResponse(concatWatchResponse({ version: '', snapshot: false }))).toEqual(normal);
    expect(assembleWatchResponse('', false, [])).toHaveLength(0);
  });

  it('reuses a pre-framed section (the snapshot cache path)', () => {
    const f = watchResponseFields();
    const section = frameRepeated(f.added, resources.map(encodeResource));
    const a = assembleWatchResponse('x-1', true, [section]);
    const b = assembleWatchResponse('x-2', true, [section]);
    expect(decodeWatchResponse(a).added).toEqual(decodeWatchResponse(b).added);
    expect(decodeWatchResponse(b)).toEqual(decodeWatchResponse(encodeWatchResponse({ version: 'x-2', snapshot: true, added: resources })));
  });

  it('frames element lengths that need 1, 2 and 3 varint bytes', () => {
    const lengths = [0, 127, 128, 16383, 16384, 70000];
    const framed = frameRepeated(3, lengths.map((n) => Buffer.alloc(n, 7)));
    let pos = 0;
    for (const n of lengths) {
      expect(framed[pos++]).toBe((3 << 3) | 2);
      let len = 0;
      let shift = 0;
      for (;;) {
        const byte = framed[pos++];
        len += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if (byte < 0x80) break;
      }
      expect(len).toBe(n);
      pos += len;
    }
    expect(pos).toBe(framed.length);
  });
});

describe('compact wire form', () => {
  // The keys the control plane gives each type (control-plane/model/translator.ts).
  const natural: Resource[] = [
    { key: { type: 'WORKLOAD', name: 'Kubernetes//Pod/shop/web-0' }, workload: { uid: 'Kubernetes//Pod/shop/web-0', name: 'web-0', namespace: 'shop' } },
    { key: { type: 'SERVICE', name: 'shop/web' }, service: { name: 'web', namespace: 'shop' } },
    { key: { type: 'AUTHORIZATION', name: 'shop/allow' }, authorization: { name: 'allow', namespace: 'shop' } },
    { key: { type: 'PEER_AUTHENTICATION', name: 'shop/strict' }, peerAuthentication: { name: 'strict', namespace: 'shop' } },
    { key: { type: 'REQUEST_AUTHENTICATION', name: 'shop/jwt' }, requestAuthentication: { name: 'jwt', namespace: 'shop' } },
    { key: { type: 'DESTINATION_POLICY', name: 'shop/dr' }, destinationPolicy: { name: 'dr', namespace: 'shop' } },
    { key: { type: 'ROUTE', name: 'HTTPRoute/shop/r' }, route: { name: 'r', namespace: 'shop' } },
    { key: { type: 'ROUTE', name: 'GRPCRoute/shop/g' }, route: { name: 'g', namespace: 'shop', kind: 'GRPC' } },
  ];

  it('drops exactly the keys a client can derive, and the decoder puts them back', () => {
    for (const r of natural) {
      expect(naturalKey(r)).toEqual(r.key);
      const wire = encodeResource(wireResource(r));
      expect(wire.length).toBeLessThan(encodeResource(r).length);
      expect(decodeWatchResponseReference(encodeWatchResponse({ added: [wireResource(r)] })).added[0].key).toBeNull();
      expect(decodeResource(wire).key).toEqual(r.key);
    }
    // A key that is not the natural one (a GRPC route named as HTTP, a test's free-form name) stays.
    const odd: Resource[] = [
      { key: { type: 'ROUTE', name: 'HTTPRoute/shop/g' }, route: { name: 'g', namespace: 'shop', kind: 'GRPC' } },
      { key: { type: 'WORKLOAD', name: 'uid/a' }, workload: { uid: 'uid/b' } },
      { key: { type: 'SERVICE', name: 'shop/web' }, workload: { uid: 'shop/web' } },
    ];
    for (const r of odd) {
      expect(wireResource(r)).toBe(r);
      expect(decodeResource(encodeResource(wireResource(r))).key).toEqual(r.key);
    }
  });

  it('leaves out pod uids and same-namespace endpoint uids, and the decoder restores them', () => {
    const pod: Resource = { key: { type: 'WORKLOAD', name: 'Kubernetes//Pod/shop/web-0' }, workload: { uid: 'Kubernetes//Pod/shop/web-0', name: 'web-0', namespace: 'shop', node: 'n1' } };
    const onWire = decodeWatchResponseReference(encodeWatchResponse({ added: [wireResource(pod)] })).added[0];
    expect(onWire.key).toBeNull();
    expect(onWire.workload?.uid).toBe('');
    expect(decodeResource(encodeResource(wireResource(pod)))).toEqual(decodeWatchResponseReference(encodeWatchResponse({ added: [pod] })).added[0]);
    // Not the pod form of its own namespace/name: kept as it is.
    for (const uid of ['uid/web-0', 'Kubernetes//Pod/other/web-0']) {
      const w: Resource = { key: { type: 'WORKLOAD', name: uid }, workload: { uid, name: 'web-0', namespace: 'shop' } };
      expect(decodeResource(encodeResource(wireResource(w))).workload?.uid).toBe(uid);
    }
    // An empty uid is no id (proto3 cannot tell it from "left out"): a named pod gets its pod uid.
    expect(decodeResource(encodeResource({ workload: { uid: '', name: 'web-0', namespace: 'shop' } })).workload?.uid).toBe('Kubernetes//Pod/shop/web-0');
    const uids = ['Kubernetes//Pod/shop/web-0', 'Kubernetes//Pod/other/web-1', 'uid/x', 'Kubernetes//Pod/shop/'];
    const svc: Resource = {
      key: { type: 'SERVICE', name: 'shop/web' },
      service: { name: 'web', namespace: 'shop', endpoints: uids.map((workloadUid) => ({ workloadUid, ports: { 80: 8080 } })) },
    };
    const wire = decodeWatchResponseReference(encodeWatchResponse({ added: [wireResource(svc)] })).added[0].service!.endpoints;
    expect(wire.map((e) => [e.workloadUid, e.workloadName])).toEqual([['', 'web-0'], [uids[1], undefined], [uids[2], undefined], [uids[3], undefined]]);
    const decoded = decodeResource(encodeResource(wireResource(svc)));
    expect(decoded.service?.endpoints.map((e) => e.workloadUid)).toEqual(uids);
    expect(decoded.service?.endpoints.map((e) => e.ports)).toEqual(uids.map(() => ({ 80: 8080 })));
    expect(encodeResource(wireResource(svc)).length).toBeLessThan(encodeResource(svc).length);
    // The stored resource itself is never modified.
    expect(svc.service?.endpoints?.[0]).toEqual({ workloadUid: uids[0], ports: { 80: 8080 } });
  });

  it('fills keys in added and updated, never in removed (those are keys themselves)', () => {
    const bytes = encodeWatchResponse({ version: 'v', added: natural.slice(0, 4).map(wireResource), updated: natural.slice(4).map(wireResource), removed: removedKeys });
    const decoded = decodeWatchResponse(bytes);
    expect([...decoded.added, ...decoded.updated].map((r) => r.key)).toEqual(natural.map((r) => r.key));
    expect(decoded.removed).toEqual(removedKeys);
  });
});
