// agent/policy/peer-authentication.ts: PeerAuthentication objects as written go through the real
// control-plane model and proto codec, then resolve to one mode per workload port with Istio's
// precedence (workload > namespace > mesh, port-level on top, UNSET inherits).
import { effectiveMtls, PeerAuthenticationTarget } from '../../agent/policy/peer-authentication';
import type { KubeObject } from '../../control-plane/kube/objects';
import { MeshModel } from '../../control-plane/model/mesh-model';
import { decodeResource, encodeResource } from '../../common/proto/codec';
import type { PeerAuthentication__Output } from '../../common/proto/generated/ambit/v1/PeerAuthentication';
import { object } from '../support/kube-fixtures';

type Mode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

const WEB: PeerAuthenticationTarget = { namespace: 'prod', labels: { app: 'web', tier: 'front' } };

function peerAuthentication(name: string, ns: string, mode: Mode | undefined, extra: Record<string, unknown> = {}): KubeObject {
  return object('PeerAuthentication', 'security.istio.io/v1', name, ns, { ...(mode ? { mtls: { mode } } : {}), ...extra });
}
const selector = (matchLabels: Record<string, string>) => ({ selector: { matchLabels } });
const ports = (p: Record<string, Mode>) => ({ portLevelMtls: Object.fromEntries(Object.entries(p).map(([k, mode]) => [k, { mode }])) });

/** Objects -> MeshModel -> encoded Resources -> decoded as an agent receives them. */
function compile(...objects: KubeObject[]): PeerAuthentication__Output[] {
  const model = new MeshModel();
  const sink = model.sinkFor('test');
  sink.apply({ upsert: objects, remove: [] });
  sink.synced();
  expect(model.problems().filter((p) => p.severity === 'error')).toEqual([]);
  return [...model.resources.ofType('PEER_AUTHENTICATION')].map((r) => decodeResource(encodeResource(r.resource)).peerAuthentication!);
}

const mode = (policies: PeerAuthentication__Output[], port = 8080, target = WEB, rootNamespace?: string) =>
  effectiveMtls(target, port, policies, { rootNamespace });

describe('effective mTLS mode', () => {
  it('is PERMISSIVE with no policy', () => {
    expect(mode([])).toEqual({ mode: 'PERMISSIVE', policy: undefined, portLevel: false });
  });

  it('takes a mesh-wide policy from the root namespace', () => {
    expect(mode(compile(peerAuthentication('default', 'istio-system', 'STRICT')))).toEqual({
      mode: 'STRICT',
      policy: 'istio-system/default',
      portLevel: false,
    });
  });

  it('a namespace policy overrides the mesh; UNSET inherits it', () => {
    const mesh = peerAuthentication('default', 'istio-system', 'STRICT');
    expect(mode(compile(mesh, peerAuthentication('ns', 'prod', 'PERMISSIVE')))).toMatchObject({ mode: 'PERMISSIVE', policy: 'prod/ns' });
    expect(mode(compile(mesh, peerAuthentication('ns', 'prod', 'UNSET')))).toMatchObject({ mode: 'STRICT', policy: 'istio-system/default' });
    expect(mode(compile(mesh, peerAuthentication('ns', 'prod', undefined)))).toMatchObject({ mode: 'STRICT', policy: 'istio-system/default' });
  });

  it('a matching workload policy overrides the namespace; a non-matching one does not apply', () => {
    const ns = peerAuthentication('ns', 'prod', 'PERMISSIVE');
    expect(mode(compile(ns, peerAuthentication('web', 'prod', 'STRICT', selector({ app: 'web' }))))).toMatchObject({ mode: 'STRICT', policy: 'prod/web' });
    expect(mode(compile(ns, peerAuthentication('db', 'prod', 'STRICT', selector({ app: 'db' }))))).toMatchObject({ mode: 'PERMISSIVE', policy: 'prod/ns' });
    // Every selector label must match.
    expect(mode(compile(ns, peerAuthentication('web-back', 'prod', 'STRICT', selector({ app: 'web', tier: 'back' }))))).toMatchObject({
      mode: 'PERMISSIVE',
    });
  });

  it('a workload policy with UNSET mode inherits namespace, then mesh', () => {
    const wl = peerAuthentication('web', 'prod', 'UNSET', selector({ app: 'web' }));
    expect(mode(compile(wl, peerAuthentication('ns', 'prod', 'STRICT')))).toMatchObject({ mode: 'STRICT', policy: 'prod/ns' });
    expect(mode(compile(wl, peerAuthentication('default', 'istio-system', 'STRICT')))).toMatchObject({ mode: 'STRICT', policy: 'istio-system/default' });
    expect(mode(compile(wl))).toMatchObject({ mode: 'PERMISSIVE', policy: undefined });
  });

  it('ignores policies of other namespaces', () => {
    expect(mode(compile(peerAuthentication('ns', 'other', 'STRICT'), peerAuthentication('web', 'other', 'STRICT', selector({ app: 'web' }))))).toMatchObject({
      mode: 'PERMISSIVE',
    });
  });

  it('returns DISABLE as written (for HBONE it accepts plaintext like PERMISSIVE)', () => {
    expect(mode(compile(peerAuthentication('ns', 'prod', 'DISABLE')))).toMatchObject({ mode: 'DISABLE', policy: 'prod/ns' });
  });
});

describe('port-level mTLS', () => {
  it('overrides the workload mode for that port only', () => {
    const policies = compile(peerAuthentication('web', 'prod', 'STRICT', { ...selector({ app: 'web' }), ...ports({ '9000': 'PERMISSIVE' }) }));
    expect(mode(policies, 9000)).toEqual({ mode: 'PERMISSIVE', policy: 'prod/web', portLevel: true });
    expect(mode(policies, 8080)).toEqual({ mode: 'STRICT', policy: 'prod/web', portLevel: false });
  });

  it('STRICT on one port under a PERMISSIVE namespace', () => {
    const policies = compile(
      peerAuthentication('ns', 'prod', 'PERMISSIVE'),
      peerAuthentication('web', 'prod', undefined, { ...selector({ app: 'web' }), ...ports({ '8080': 'STRICT' }) }),
    );
    expect(mode(policies, 8080)).toMatchObject({ mode: 'STRICT', portLevel: true });
    expect(mode(policies, 8081)).toMatchObject({ mode: 'PERMISSIVE', policy: 'prod/ns' });
  });

  it('UNSET on a port inherits the mode resolved above it (here: mesh STRICT through an UNSET workload)', () => {
    const policies = compile(
      peerAuthentication('default', 'istio-system', 'STRICT'),
      peerAuthentication('web', 'prod', 'UNSET', { ...selector({ app: 'web' }), ...ports({ '8080': 'UNSET', '9000': 'DISABLE' }) }),
    );
    expect(mode(policies, 8080)).toEqual({ mode: 'STRICT', policy: 'istio-system/default', portLevel: false });
    expect(mode(policies, 9000)).toMatchObject({ mode: 'DISABLE', portLevel: true });
  });

  it('is ignored on a namespace-wide policy (Istio honours it only with a selector)', () => {
    // The control plane drops (and validation refuses) it; a resource carrying it anyway is still ignored.
    const [ns] = compile(peerAuthentication('ns', 'prod', 'STRICT'));
    expect(mode([{ ...ns, portLevelMtls: { 8080: 'DISABLE' } }], 8080)).toMatchObject({ mode: 'STRICT', portLevel: false });
  });
});

describe('Istio corner cases', () => {
  it('among equals, the smallest name wins (the resource has no creation time)', () => {
    const policies = compile(peerAuthentication('b-strict', 'prod', 'STRICT'), peerAuthentication('a-permissive', 'prod', 'PERMISSIVE'));
    expect(mode(policies)).toMatchObject({ mode: 'PERMISSIVE', policy: 'prod/a-permissive' });
    expect(mode([...policies].reverse())).toMatchObject({ mode: 'PERMISSIVE', policy: 'prod/a-permissive' });
  });

  it('a selector policy in the root namespace is ignored, also for workloads there when rootNamespace is given', () => {
    const policies = compile(peerAuthentication('root-web', 'istio-system', 'STRICT', selector({ app: 'web' })));
    expect(mode(policies)).toMatchObject({ mode: 'PERMISSIVE' });
    const inRoot: PeerAuthenticationTarget = { namespace: 'istio-system', labels: { app: 'web' } };
    expect(mode(policies, 8080, inRoot, 'istio-system')).toMatchObject({ mode: 'PERMISSIVE', policy: undefined });
  });

  it('the mesh-wide policy applies to workloads of the root namespace too', () => {
    const inRoot: PeerAuthenticationTarget = { namespace: 'istio-system', labels: {} };
    expect(mode(compile(peerAuthentication('default', 'istio-system', 'STRICT')), 8080, inRoot, 'istio-system')).toMatchObject({ mode: 'STRICT' });
  });
});
