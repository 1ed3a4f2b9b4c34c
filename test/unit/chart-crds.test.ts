// The chart's CRDs are generated from the JSON schemas the control plane validates with: the files
// in charts/ambit/crds/ are exactly what cli/install/crd-generate.ts makes, they are structural
// (the API server's rules), and the API server would accept and refuse what the control plane does.
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { CHART_CRDS, generateCrds } from '../../cli/install/crd-generate';
import { validateObject } from '../../control-plane/validation/validate-object';
import { CHART_DIR } from './chart-support';

const generated = generateCrds();

test('charts/ambit/crds/ holds exactly the generated CRDs (regenerate: node -r ./test/fixtures/ts-register.js cli/install/crd-generate.ts)', () => {
  const onDisk = fs.readdirSync(path.join(CHART_DIR, 'crds')).sort();
  expect(onDisk).toEqual(generated.map((g) => path.basename(g.path)).sort());
  for (const g of generated) expect(fs.readFileSync(path.join(CHART_DIR, g.path), 'utf8')).toBe(g.text);
});

test('one CRD per kind Ambit reads from the Istio, Gateway API and ambit.dev groups', () => {
  expect(generated.map((g) => (g.crd.metadata as { name: string }).name)).toEqual([
    'authorizationpolicies.security.istio.io',
    'peerauthentications.security.istio.io',
    'requestauthentications.security.istio.io',
    'destinationrules.networking.istio.io',
    'gatewayclasses.gateway.networking.k8s.io',
    'gateways.gateway.networking.k8s.io',
    'httproutes.gateway.networking.k8s.io',
    'grpcroutes.gateway.networking.k8s.io',
    'faultinjections.ambit.dev',
    'localratelimits.ambit.dev',
  ]);
  expect(CHART_CRDS).toHaveLength(generated.length);
});

/** Structural-schema rules the API server enforces on a CRD (apiextensions validation). */
function structuralProblems(s: any, at: string): string[] {
  const out: string[] = [];
  const typed = s.type !== undefined || s['x-kubernetes-int-or-string'] || s['x-kubernetes-preserve-unknown-fields'];
  if (!typed) out.push(`${at}: no type`);
  if (s.additionalProperties === false) out.push(`${at}: additionalProperties: false`);
  if (s.properties && s.additionalProperties) out.push(`${at}: both properties and additionalProperties`);
  if (s.$ref || s.definitions || s.const !== undefined || s.propertyNames) out.push(`${at}: keyword a CRD does not allow`);
  if (typeof s.pattern === 'string' && /\(\?<?[=!]/.test(s.pattern)) out.push(`${at}: look-around in pattern (not RE2)`);
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...structuralProblems(v, `${at}.${k}`));
  if (s.items) out.push(...structuralProblems(s.items, `${at}[]`));
  if (typeof s.additionalProperties === 'object') out.push(...structuralProblems(s.additionalProperties, `${at}{}`));
  return out;
}

test.each(generated.map((g) => [(g.crd.metadata as { name: string }).name, g.crd] as const))('%s is structural, served at every apiVersion of its schema, v1 stored', (_name, crd: any) => {
  const versions = crd.spec.versions;
  expect(versions.filter((v: any) => v.storage)).toHaveLength(1);
  if (versions.some((v: any) => v.name === 'v1')) expect(versions.find((v: any) => v.storage).name).toBe('v1');
  for (const v of versions) expect(structuralProblems(v.schema.openAPIV3Schema, `${v.name}`)).toEqual([]);
});

// One realistic object per kind, written as users write them upstream.
const SAMPLES: Record<string, string> = {
  AuthorizationPolicy: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-web, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  action: ALLOW
  rules:
    - from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}]
      to: [{operation: {ports: ["8080"], methods: [GET]}}]
      when: [{key: source.ip, values: ["10.0.0.0/8"]}]`,
  PeerAuthentication: `
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: strict, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  mtls: {mode: STRICT}
  portLevelMtls: {"8080": {mode: PERMISSIVE}}`,
  RequestAuthentication: `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  jwtRules: [{issuer: "https://issuer.example.com", jwksUri: "https://issuer.example.com/jwks", audiences: [cart]}]`,
  DestinationRule: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool: {tcp: {maxConnections: 100}, http: {http2MaxRequests: 1000}}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}`,
  GatewayClass: `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ambit-waypoint}
spec: {controllerName: ambit.dev/waypoint-controller}`,
  Gateway: `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop, labels: {istio.io/waypoint-for: service}}
spec:
  gatewayClassName: ambit-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]`,
  HTTPRoute: `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cart, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: cart, port: 8080}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /api}}]
      filters: [{type: ExtensionRef, extensionRef: {group: ambit.dev, kind: LocalRateLimit, name: cart-limit}}]
      backendRefs: [{name: cart-v2, port: 8080, weight: 10}]
      timeouts: {request: 5s}`,
  GRPCRoute: `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: pricing, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: pricing}]
  rules: [{matches: [{method: {service: shop.Pricing, method: Quote}}], backendRefs: [{name: pricing, port: 9090}]}]`,
  FaultInjection: `
apiVersion: ambit.dev/v1alpha1
kind: FaultInjection
metadata: {name: slow, namespace: shop}
spec: {delay: {fixedDelay: 2s, percentage: {value: 10}}, abort: {httpStatus: 503, percentage: {value: 0.5}}}`,
  LocalRateLimit: `
apiVersion: ambit.dev/v1alpha1
kind: LocalRateLimit
metadata: {name: cart-limit, namespace: shop}
spec: {maxTokens: 100, tokensPerFill: 10, fillInterval: 1s}`,
};

/** What each sample becomes when broken in a way both validators must refuse. */
const BREAK: Record<string, (o: any) => void> = {
  AuthorizationPolicy: (o) => (o.spec.action = 'PERMIT'),
  PeerAuthentication: (o) => (o.spec.mtls.mode = 'ON'),
  RequestAuthentication: (o) => (o.spec.jwtRules = 'issuer'),
  DestinationRule: (o) => (o.spec.trafficPolicy.connectionPool.tcp.maxConnections = 'many'),
  GatewayClass: (o) => delete o.spec.controllerName,
  Gateway: (o) => (o.spec.listeners[0].port = 'mesh'),
  HTTPRoute: (o) => (o.spec.rules[0].matches[0].path.type = 'Glob'),
  GRPCRoute: (o) => (o.spec.rules[0].backendRefs[0].port = 70000),
  FaultInjection: (o) => (o.spec.abort.httpStatus = 99),
  LocalRateLimit: (o) => (o.spec.fillInterval = 'soon'),
};

// The API server checks these formats too; the others the schemas use are dropped from CRDs.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv, ['date-time']);
const crdOf = (kind: string): any => generated.find((g) => (g.crd.spec as { names: { kind: string } }).names.kind === kind)!.crd;
const crdAccepts = (doc: any): boolean => {
  const crd = crdOf(doc.kind);
  const version = crd.spec.versions.find((v: any) => `${crd.spec.group}/${v.name}` === doc.apiVersion);
  expect(version).toBeDefined();
  return ajv.validate(version.schema.openAPIV3Schema, doc) as boolean;
};

describe.each(Object.keys(SAMPLES))('%s', (kind) => {
  test('the sample is valid for the control plane and for the CRD', () => {
    const doc = YAML.parse(SAMPLES[kind]);
    // GatewayClass is not a kind the control plane reads; its schema (charts/crd-sources) is the CRD's source.
    if (kind !== 'GatewayClass') expect(validateObject(doc)).toEqual([]);
    expect(crdAccepts(doc)).toBe(true);
  });

  test('the broken sample is refused by both', () => {
    const doc = YAML.parse(SAMPLES[kind]);
    BREAK[kind](doc);
    if (kind !== 'GatewayClass') expect(validateObject(doc)).not.toEqual([]);
    expect(crdAccepts(doc)).toBe(false);
  });
});
