// ambit.dev LocalRateLimit referenced from a route rule's ExtensionRef filter: translated into
// RouteFilter.rateLimit with Envoy's token_bucket defaults, and re-translated when it changes.
import type { KubeObject } from '../../control-plane/kube/objects';
import { MeshModel } from '../../control-plane/model/mesh-model';
import type { ResourceDelta } from '../../control-plane/model/resource-store';
import { object } from '../support/kube-fixtures';

const limit = (name: string, spec: unknown): KubeObject => object('LocalRateLimit', 'ambit.dev/v1alpha1', name, 'shop', spec);

const route = (kind: 'HTTPRoute' | 'GRPCRoute', name: string, limitName: string): KubeObject =>
  object(kind, 'gateway.networking.k8s.io/v1', name, 'shop', {
    parentRefs: [{ group: '', kind: 'Service', name: 'cart' }],
    rules: [
      { filters: [{ type: 'ExtensionRef', extensionRef: { group: 'ambit.dev', kind: 'LocalRateLimit', name: limitName } }], backendRefs: [{ name: 'cart', port: 80 }] },
    ],
  });

function setup(objects: KubeObject[]): { model: MeshModel; apply: (upsert: KubeObject[], remove?: string[]) => void; deltas: ResourceDelta[] } {
  const model = new MeshModel();
  const sink = model.sinkFor('test');
  sink.apply({ upsert: objects, remove: [] });
  sink.synced();
  const deltas: ResourceDelta[] = [];
  model.resources.subscribe((d) => deltas.push(d));
  return { model, deltas, apply: (upsert, remove = []) => sink.apply({ upsert, remove }) };
}

const filterOf = (m: MeshModel, key: string) => m.resources.get(`ROUTE:${key}`)?.resource.route?.rules?.[0].filters?.[0];

describe('LocalRateLimit', () => {
  it('resolves into RouteFilter.rateLimit, tokensPerFill defaulting to 1 as in Envoy', () => {
    const { model } = setup([
      limit('burst', { maxTokens: 100, tokensPerFill: 10, fillInterval: '1s' }),
      limit('slow', { maxTokens: 5, fillInterval: '1.5s' }),
      route('HTTPRoute', 'cart', 'burst'),
      route('GRPCRoute', 'cart-grpc', 'slow'),
    ]);
    expect(filterOf(model, 'HTTPRoute/shop/cart')).toEqual({
      type: 'ExtensionRef',
      extensionRef: { group: 'ambit.dev', kind: 'LocalRateLimit', name: 'burst' },
      rateLimit: { maxTokens: 100, tokensPerFill: 10, fillIntervalMs: 1000 },
    });
    expect(filterOf(model, 'GRPCRoute/shop/cart-grpc')?.rateLimit).toEqual({ maxTokens: 5, tokensPerFill: 1, fillIntervalMs: 1500 });
    expect(model.problems()).toEqual([]);
  });

  it('an unresolvable reference is reported and carries no rateLimit (the rule answers 500)', () => {
    const { model } = setup([route('HTTPRoute', 'cart', 'missing')]);
    const f = filterOf(model, 'HTTPRoute/shop/cart');
    expect(f?.extensionRef).toEqual({ group: 'ambit.dev', kind: 'LocalRateLimit', name: 'missing' });
    expect(f?.rateLimit).toBeUndefined();
    expect(model.problems()).toEqual([
      expect.objectContaining({ kind: 'HTTPRoute', name: 'cart', field: '/spec/rules/0/filters/0/extensionRef', message: expect.stringContaining('ambit.dev/LocalRateLimit shop/missing does not resolve') }),
    ]);
  });

  it('a limit in another namespace does not resolve: ExtensionRef is a local reference', () => {
    const { model } = setup([object('LocalRateLimit', 'ambit.dev/v1alpha1', 'burst', 'other', { maxTokens: 1, fillInterval: '1s' }), route('HTTPRoute', 'cart', 'burst')]);
    expect(filterOf(model, 'HTTPRoute/shop/cart')?.rateLimit).toBeUndefined();
  });

  it('creating, changing and deleting the limit re-translates the routes that name it', () => {
    const { model, deltas, apply } = setup([route('HTTPRoute', 'cart', 'burst')]);
    const routeUpserts = (): string[] => deltas.flatMap((d) => d.upserted.map((r) => r.id)).filter((id) => id.startsWith('ROUTE:'));

    apply([limit('burst', { maxTokens: 10, fillInterval: '1s' })]);
    expect(routeUpserts()).toEqual(['ROUTE:HTTPRoute/shop/cart']);
    expect(filterOf(model, 'HTTPRoute/shop/cart')?.rateLimit).toEqual({ maxTokens: 10, tokensPerFill: 1, fillIntervalMs: 1000 });
    expect(model.problems()).toEqual([]);

    deltas.length = 0;
    apply([limit('burst', { maxTokens: 20, tokensPerFill: 2, fillInterval: '100ms' })]);
    expect(routeUpserts()).toEqual(['ROUTE:HTTPRoute/shop/cart']);
    expect(filterOf(model, 'HTTPRoute/shop/cart')?.rateLimit).toEqual({ maxTokens: 20, tokensPerFill: 2, fillIntervalMs: 100 });

    deltas.length = 0;
    apply([], ['LocalRateLimit/shop/burst']);
    expect(routeUpserts()).toEqual(['ROUTE:HTTPRoute/shop/cart']);
    expect(filterOf(model, 'HTTPRoute/shop/cart')?.rateLimit).toBeUndefined();
    expect(model.problems()).toHaveLength(1);
  });
});
