// Schema validation of every supported kind: upstream documentation examples are accepted, and bad
// documents are rejected with the field path and a message that says what is allowed.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SUPPORTED_KINDS, type SupportedKind } from '../../control-plane/kube/objects';
import { SCHEMA_DIR, schemaFileOf } from '../../control-plane/validation/schema-registry';
import { formatIssue, validateObject } from '../../control-plane/validation/validate-object';

/** Issues as "path: message" lines. */
const check = (yamlText: string): string[] => validateObject(parse(yamlText)).map(formatIssue);
/** Issues of an example after `edit` changed it. */
const checkEdited = (yamlText: string, edit: (doc: any) => void): string[] => {
  const doc = parse(yamlText);
  edit(doc);
  return validateObject(doc).map(formatIssue);
};

// ---- upstream examples (Kubernetes, Istio and Gateway API documentation) -----------------------

const NAMESPACE = `
apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels:
    istio.io/dataplane-mode: ambient
    istio.io/use-waypoint: waypoint
`;

const SERVICE_ACCOUNT = `
apiVersion: v1
kind: ServiceAccount
metadata:
  name: bookinfo-productpage
  namespace: bookinfo
  labels:
    account: productpage
`;

const SERVICE = `
apiVersion: v1
kind: Service
metadata:
  name: productpage
  namespace: bookinfo
  labels: {app: productpage, service: productpage}
spec:
  selector:
    app: productpage
  ports:
  - name: http
    port: 9080
    targetPort: 9080
    appProtocol: http
  - name: metrics
    port: 9090
    targetPort: metrics
    protocol: TCP
  clusterIP: 10.96.0.20
  clusterIPs: [10.96.0.20]
  ipFamilies: [IPv4]
  ipFamilyPolicy: SingleStack
  type: ClusterIP
`;

const POD = `
apiVersion: v1
kind: Pod
metadata:
  name: productpage-v1-6b746f74dc-9stvs
  namespace: bookinfo
  labels: {app: productpage, version: v1}
  annotations:
    kubectl.kubernetes.io/default-container: productpage
spec:
  nodeName: node-1
  serviceAccountName: bookinfo-productpage
  restartPolicy: Always
  terminationGracePeriodSeconds: 30
  containers:
  - name: productpage
    image: docker.io/istio/examples-bookinfo-productpage-v1:1.20.1
    imagePullPolicy: IfNotPresent
    command: [python, productpage.py]
    args: ["9080"]
    workingDir: /opt/microservices
    env:
    - name: LOG_LEVEL
      value: info
    - name: POD_IP
      valueFrom:
        fieldRef: {apiVersion: v1, fieldPath: status.podIP}
    ports:
    - name: http
      containerPort: 9080
    - name: metrics
      containerPort: 9090
      protocol: TCP
    readinessProbe:
      httpGet: {path: /health, port: http, scheme: HTTP}
      initialDelaySeconds: 2
      periodSeconds: 5
      timeoutSeconds: 1
      successThreshold: 1
      failureThreshold: 3
    livenessProbe:
      tcpSocket: {port: 9080}
    startupProbe:
      exec: {command: [cat, /tmp/started]}
      failureThreshold: 30
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 1, memory: 256Mi}
  - name: grpc-sidecar
    image: example/grpc:1
    readinessProbe:
      grpc: {port: 9555}
  volumes:
  - name: tmp
    emptyDir: {}
status:
  phase: Running
  podIP: 10.244.1.7
  podIPs: [{ip: 10.244.1.7}]
  hostIP: 172.18.0.3
  conditions:
  - type: Ready
    status: "True"
    lastTransitionTime: "2024-05-01T10:00:00Z"
`;

// Istio docs: "allow requests from a principal and a namespace to GET, with a JWT issuer condition".
const AUTHORIZATION_POLICY = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
      version: v1
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/curl"]
    - source:
        namespaces: ["dev"]
        ipBlocks: ["10.0.0.0/16", "192.168.1.7"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/info*"]
        ports: ["8000"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`;

const PEER_AUTHENTICATION = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  selector:
    matchLabels:
      app: finance
  mtls:
    mode: STRICT
  portLevelMtls:
    8080:
      mode: DISABLE
`;

const REQUEST_AUTHENTICATION = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt-example
  namespace: foo
spec:
  targetRefs:
  - kind: Gateway
    group: gateway.networking.k8s.io
    name: waypoint
  jwtRules:
  - issuer: "testing@secure.istio.io"
    jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.22/security/tools/jwt/samples/jwks.json"
    audiences: ["bookstore_android.apps.example.com"]
    fromHeaders:
    - name: x-jwt-assertion
      prefix: "Bearer "
    fromParams: ["my_token"]
    fromCookies: ["session"]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
    outputClaimToHeaders:
    - header: "x-jwt-claim-foo"
      claim: "foo"
    timeout: 5s
`;

// Istio docs: cookie-based consistent hashing plus connection pool and outlier detection.
const DESTINATION_RULE = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie:
          name: user
          ttl: 0s
        ringHash:
          minimumRingSize: 1024
    connectionPool:
      tcp:
        maxConnections: 100
        connectTimeout: 30ms
      http:
        http1MaxPendingRequests: 10
        http2MaxRequests: 1000
        maxRequestsPerConnection: 10
        maxRetries: 3
        idleTimeout: 1h2m
    outlierDetection:
      consecutive5xxErrors: 7
      consecutiveGatewayErrors: 5
      interval: 5m
      baseEjectionTime: 15m
      maxEjectionPercent: 50
      minHealthPercent: 30
    portLevelSettings:
    - port: {number: 80}
      loadBalancer: {simple: LEAST_REQUEST}
  subsets:
  - name: testversion
    labels:
      version: v3
    trafficPolicy:
      loadBalancer:
        simple: ROUND_ROBIN
  exportTo: ["."]
`;

const WAYPOINT = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: bookinfo
  labels:
    istio.io/waypoint-for: service
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
`;

const INGRESS_GATEWAY = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  gatewayClassName: istio
  addresses:
  - type: IPAddress
    value: 172.18.255.200
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Selector
        selector:
          matchLabels:
            shared-gateway-access: "true"
  - name: https
    hostname: "*.example.com"
    port: 443
    protocol: HTTPS
    tls:
      mode: Terminate
      certificateRefs:
      - kind: Secret
        name: example-com-cert
`;

// Istio bookinfo traffic shifting: 90/10 between reviews versions, mesh route on the Service.
const HTTP_ROUTE = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
  namespace: bookinfo
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: reviews
    port: 9080
  rules:
  - name: canary
    matches:
    - path: {type: PathPrefix, value: /reviews}
      headers:
      - name: end-user
        value: jason
      queryParams:
      - type: RegularExpression
        name: debug
        value: "^(1|true)$"
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-canary, value: "1"}]
        remove: [x-internal]
    - type: ExtensionRef
      extensionRef: {group: ambit.dev, kind: FaultInjection, name: reviews-delay}
    backendRefs:
    - name: reviews-v1
      port: 9080
      weight: 90
    - name: reviews-v2
      port: 9080
      weight: 10
    timeouts:
      request: 10s
      backendRequest: 2s
    retry:
      codes: [500, 503]
      attempts: 2
      backoff: 100ms
  - matches:
    - path: {type: Exact, value: /old}
    filters:
    - type: RequestRedirect
      requestRedirect:
        scheme: https
        path: {type: ReplaceFullPath, replaceFullPath: /new}
        statusCode: 301
`;

const GRPC_ROUTE = `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: grpc-app-1
spec:
  parentRefs:
  - name: my-gateway
  hostnames:
  - example.com
  rules:
  - matches:
    - method:
        service: com.example.User
        method: Login
      headers:
      - name: magic
        value: foo
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{name: x-served-by, value: grpc-route}]
    backendRefs:
    - name: foo-svc
      port: 50051
      weight: 1
`;

const FAULT_INJECTION = `
apiVersion: ambit.dev/v1alpha1
kind: FaultInjection
metadata:
  name: reviews-delay
  namespace: bookinfo
spec:
  delay:
    percentage: {value: 0.1}
    fixedDelay: 5s
  abort:
    percentage: {value: 10}
    httpStatus: 503
`;

const LOCAL_RATE_LIMIT = `
apiVersion: ambit.dev/v1alpha1
kind: LocalRateLimit
metadata:
  name: reviews-limit
  namespace: bookinfo
spec:
  maxTokens: 100
  tokensPerFill: 10
  fillInterval: 1s
`;

const ENDPOINT_SLICE = `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: example-abc
  namespace: default
  labels:
    kubernetes.io/service-name: example
    endpointslice.kubernetes.io/managed-by: staff
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: 80
  - name: ""
    port: 5432
endpoints:
  - addresses: ["10.1.2.3"]
    conditions: {ready: true, serving: true, terminating: false}
    hostname: pod-1
    nodeName: node-1
    zone: us-west2-a
    targetRef: {kind: Pod, namespace: default, name: pod-1, uid: 0b8e-11}
    hints: {forZones: [{name: us-west2-a}]}
  - addresses: ["10.1.2.4"]
`;

const EXAMPLES: Record<SupportedKind, string> = {
  Namespace: NAMESPACE,
  ServiceAccount: SERVICE_ACCOUNT,
  Service: SERVICE,
  Pod: POD,
  EndpointSlice: ENDPOINT_SLICE,
  AuthorizationPolicy: AUTHORIZATION_POLICY,
  PeerAuthentication: PEER_AUTHENTICATION,
  RequestAuthentication: REQUEST_AUTHENTICATION,
  DestinationRule: DESTINATION_RULE,
  Gateway: WAYPOINT,
  HTTPRoute: HTTP_ROUTE,
  GRPCRoute: GRPC_ROUTE,
  FaultInjection: FAULT_INJECTION,
  LocalRateLimit: LOCAL_RATE_LIMIT,
};

describe('upstream examples are accepted', () => {
  it.each(Object.entries(EXAMPLES))('%s', (_kind, text) => {
    expect(check(text)).toEqual([]);
  });

  it('an ingress Gateway with HTTP and HTTPS listeners', () => {
    expect(check(INGRESS_GATEWAY)).toEqual([]);
  });

  it('every supported apiVersion of a kind, e.g. the v1beta1 forms', () => {
    for (const [kind, versions] of Object.entries(SUPPORTED_KINDS) as Array<[SupportedKind, readonly string[]]>) {
      for (const apiVersion of versions) {
        expect(checkEdited(EXAMPLES[kind], (d) => (d.apiVersion = apiVersion))).toEqual([]);
      }
    }
  });
});

describe('unknown fields are rejected at their own path', () => {
  it.each<[SupportedKind, (d: any) => void, string]>([
    ['Pod', (d) => (d.spec.containers[0].readinessProbe.httpGet.portt = 1), '/spec/containers/0/readinessProbe/httpGet/portt'],
    ['Service', (d) => (d.spec.foo = 1), '/spec/foo'],
    ['Namespace', (d) => (d.metadata.lables = {}), '/metadata/lables'],
    ['ServiceAccount', (d) => (d.spec = {}), '/spec'],
    ['EndpointSlice', (d) => (d.endpoints[0].conditions.healthy = true), '/endpoints/0/conditions/healthy'],
    ['AuthorizationPolicy', (d) => (d.spec.rules[0].to[0].operation.method = ['GET']), '/spec/rules/0/to/0/operation/method'],
    ['PeerAuthentication', (d) => (d.spec.mtls.strict = true), '/spec/mtls/strict'],
    ['RequestAuthentication', (d) => (d.spec.jwtRules[0].issuers = ['x']), '/spec/jwtRules/0/issuers'],
    ['DestinationRule', (d) => (d.spec.trafficPolicy.outlierDetection.ejectionTime = '1m'), '/spec/trafficPolicy/outlierDetection/ejectionTime'],
    ['Gateway', (d) => (d.spec.listeners[0].tlsMode = 'x'), '/spec/listeners/0/tlsMode'],
    ['HTTPRoute', (d) => (d.spec.rules[0].backendRefs[1].wieght = 1), '/spec/rules/0/backendRefs/1/wieght'],
    ['GRPCRoute', (d) => (d.spec.rules[0].matches[0].method.name = 'x'), '/spec/rules/0/matches/0/method/name'],
    ['FaultInjection', (d) => (d.spec.delay.exponentialDelay = '1s'), '/spec/delay/exponentialDelay'],
    ['LocalRateLimit', (d) => (d.spec.fillIntervalMs = 1000), '/spec/fillIntervalMs'],
  ])('%s', (kind, edit, field) => {
    const name = field.split('/').pop();
    expect(checkEdited(EXAMPLES[kind], edit)).toContainEqual(expect.stringMatching(new RegExp(`^${field}: unknown field "${name}"`)));
  });

  it('suggests the field that was probably meant', () => {
    expect(checkEdited(AUTHORIZATION_POLICY, (d) => (d.spec.selctor = d.spec.selector))).toContain(
      '/spec/selctor: unknown field "selctor"; did you mean "selector"?',
    );
  });

  // Istio's CRDs still take these; Ambit rejects them and names the field to write instead.
  it('deprecated upstream spellings point to their replacement', () => {
    expect(checkEdited(REQUEST_AUTHENTICATION, (d) => (d.spec.jwtRules[0].jwks_uri = d.spec.jwtRules[0].jwksUri))).toEqual([
      '/spec/jwtRules/0/jwks_uri: unknown field "jwks_uri" (the deprecated proto spelling; write "jwksUri")',
    ]);
    expect(checkEdited(DESTINATION_RULE, (d) => (d.spec.trafficPolicy.outlierDetection.consecutiveErrors = 5))).toEqual([
      '/spec/trafficPolicy/outlierDetection/consecutiveErrors: unknown field "consecutiveErrors" (deprecated upstream; use "consecutive5xxErrors" or "consecutiveGatewayErrors")',
    ]);
  });

  it('an unknown top-level field', () => {
    expect(checkEdited(SERVICE, (d) => (d.data = {}))).toEqual(['/data: unknown field "data"']);
  });
});

describe('bad values name the field and what is allowed', () => {
  it('a bad enum lists the allowed values', () => {
    expect(checkEdited(AUTHORIZATION_POLICY, (d) => (d.spec.action = 'ALOW'))).toEqual([
      '/spec/action: must be one of "ALLOW", "DENY", "AUDIT", "CUSTOM"; got "ALOW"',
    ]);
    expect(checkEdited(PEER_AUTHENTICATION, (d) => (d.spec.mtls.mode = 'strict'))).toEqual([
      '/spec/mtls/mode: must be one of "UNSET", "DISABLE", "PERMISSIVE", "STRICT"; got "strict"',
    ]);
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].matches[0].path.type = 'Prefix'))).toEqual([
      '/spec/rules/0/matches/0/path/type: must be one of "Exact", "PathPrefix", "RegularExpression"; got "Prefix"',
    ]);
  });

  it('port 70000 is rejected wherever a port goes', () => {
    expect(checkEdited(SERVICE, (d) => (d.spec.ports[0].port = 70000))).toEqual(['/spec/ports/0/port: must be <= 65535; got 70000']);
    expect(checkEdited(POD, (d) => (d.spec.containers[0].ports[0].containerPort = 70000))).toEqual([
      '/spec/containers/0/ports/0/containerPort: must be <= 65535; got 70000',
    ]);
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.parentRefs[0].port = 70000))).toEqual(['/spec/parentRefs/0/port: must be <= 65535; got 70000']);
    // Istio writes policy ports as strings.
    const [issue] = checkEdited(AUTHORIZATION_POLICY, (d) => (d.spec.rules[0].to[0].operation.ports = ['8000', '70000']));
    expect(issue).toMatch(/^\/spec\/rules\/0\/to\/0\/operation\/ports\/1: must match pattern ".*": a port number 1-65535 as a string; got "70000"$/);
  });

  it('targetPort is a number or an IANA port name', () => {
    expect(checkEdited(SERVICE, (d) => (d.spec.ports[0].targetPort = 'Http_Port'))).toEqual([
      expect.stringMatching(/^\/spec\/ports\/0\/targetPort: must match pattern .*IANA service name.*; got "Http_Port"$/),
    ]);
    expect(checkEdited(SERVICE, (d) => (d.spec.ports[0].targetPort = true))).toEqual(['/spec/ports/0/targetPort: must be integer or string; got boolean']);
  });

  it('bad durations are rejected, in the Gateway API and in the Istio syntax', () => {
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].timeouts.request = '10 seconds'))).toEqual([
      expect.stringMatching(/^\/spec\/rules\/0\/timeouts\/request: must match pattern .*Gateway API duration.*; got "10 seconds"$/),
    ]);
    // Gateway API durations have no fractions; Istio's (Go syntax) do.
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].retry.backoff = '1.5s'))).toHaveLength(1);
    expect(checkEdited(DESTINATION_RULE, (d) => (d.spec.trafficPolicy.outlierDetection.interval = '1.5s'))).toEqual([]);
    expect(checkEdited(DESTINATION_RULE, (d) => (d.spec.trafficPolicy.outlierDetection.interval = '5 min'))).toEqual([
      expect.stringMatching(/^\/spec\/trafficPolicy\/outlierDetection\/interval: must match pattern .*; got "5 min"$/),
    ]);
    expect(checkEdited(FAULT_INJECTION, (d) => (d.spec.delay.fixedDelay = 5))).toEqual(['/spec/delay/fixedDelay: must be string; got integer']);
  });

  it('weights are 0..1000000', () => {
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].backendRefs[0].weight = 1000001))).toEqual([
      '/spec/rules/0/backendRefs/0/weight: must be <= 1000000; got 1000001',
    ]);
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].backendRefs[0].weight = -1))).toEqual([
      '/spec/rules/0/backendRefs/0/weight: must be >= 0; got -1',
    ]);
  });

  it('names, labels and IPs follow the Kubernetes rules', () => {
    expect(checkEdited(POD, (d) => (d.metadata.name = 'Productpage'))).toEqual([
      expect.stringMatching(/^\/metadata\/name: must match pattern .*DNS-1123 subdomain.*; got "Productpage"$/),
    ]);
    expect(checkEdited(SERVICE, (d) => (d.metadata.name = '9080-svc'))).toEqual([
      expect.stringMatching(/^\/metadata\/name: must match pattern .*DNS-1035 label.*; got "9080-svc"$/),
    ]);
    expect(checkEdited(NAMESPACE, (d) => (d.metadata.labels['bad key'] = 'x'))).toEqual([
      expect.stringMatching(/^\/metadata\/labels\/bad key: invalid key "bad key": must match pattern .*qualified name/),
    ]);
    expect(checkEdited(NAMESPACE, (d) => (d.metadata.labels.version = 1))).toEqual(['/metadata/labels/version: must be string; got integer']);
    expect(checkEdited(NAMESPACE, (d) => (d.metadata.labels.version = '-v1'))).toHaveLength(1);
    expect(checkEdited(POD, (d) => (d.status.podIP = '10.244.1.700'))).toContainEqual(
      '/status/podIP: must be an IPv4 or IPv6 address; got "10.244.1.700"',
    );
    expect(checkEdited(AUTHORIZATION_POLICY, (d) => (d.spec.rules[0].from[1].source.ipBlocks = ['10.0.0.0/33']))).toEqual([
      '/spec/rules/0/from/1/source/ipBlocks/0: must be an IPv4/IPv6 address or CIDR block (e.g. 10.0.0.0/16); got "10.0.0.0/33"',
    ]);
  });

  it('missing required fields are reported at the field they would have', () => {
    expect(checkEdited(DESTINATION_RULE, (d) => delete d.spec.host)).toEqual(['/spec/host: missing required field "host"']);
    expect(checkEdited(POD, (d) => delete d.metadata.name)).toEqual(['/metadata/name: missing required field "name"']);
  });

  it('reports every problem of a document at once', () => {
    const issues = checkEdited(HTTP_ROUTE, (d) => {
      d.spec.rules[0].backendRefs[0].port = 0;
      d.spec.rules[0].matches[0].method = 'FETCH';
      d.spec.hostnames = ['Example.COM'];
    });
    expect(issues.map((i) => i.split(':')[0]).sort()).toEqual(['/spec/hostnames/0', '/spec/rules/0/backendRefs/0/port', '/spec/rules/0/matches/0/method']);
  });
});

describe('kind and apiVersion', () => {
  it('an unknown kind names it and lists the supported kinds', () => {
    const [issue, ...rest] = check('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\n');
    expect(rest).toEqual([]);
    expect(issue).toMatch(/^\/kind: unsupported kind "VirtualService"; supported kinds: Namespace \(v1\), Pod \(v1\),.* HTTPRoute \(gateway\.networking\.k8s\.io\/v1, gateway\.networking\.k8s\.io\/v1beta1\),.*FaultInjection \(ambit\.dev\/v1alpha1\), LocalRateLimit \(ambit\.dev\/v1alpha1\)$/);
  });

  it('an unsupported apiVersion names the kind and its versions', () => {
    expect(checkEdited(GRPC_ROUTE, (d) => (d.apiVersion = 'gateway.networking.k8s.io/v1alpha2'))).toEqual([
      '/apiVersion: kind GRPCRoute does not support apiVersion "gateway.networking.k8s.io/v1alpha2"; supported: gateway.networking.k8s.io/v1',
    ]);
    expect(checkEdited(POD, (d) => delete d.apiVersion)).toEqual(['/apiVersion: missing required field "apiVersion"; kind Pod supports v1']);
  });

  it('a document that is not a mapping', () => {
    expect(validateObject(['a'])).toEqual([{ path: '', message: 'a document must be a mapping with apiVersion, kind and metadata; got a list' }]);
    expect(check('just a string')).toEqual(['/: a document must be a mapping with apiVersion, kind and metadata; got string']);
  });
});

describe('rules beyond the schema', () => {
  it('duplicate container names (init and app containers share one namespace)', () => {
    expect(checkEdited(POD, (d) => (d.spec.containers[1].name = 'productpage'))).toEqual([
      '/spec/containers/1/name: duplicate container name "productpage" (already at /spec/containers/0/name)',
    ]);
    expect(checkEdited(POD, (d) => (d.spec.initContainers = [{ name: 'grpc-sidecar', restartPolicy: 'Always' }]))).toEqual([
      '/spec/containers/1/name: duplicate container name "grpc-sidecar" (already at /spec/initContainers/0/name)',
    ]);
  });

  it('duplicate and missing Service port names', () => {
    expect(checkEdited(SERVICE, (d) => (d.spec.ports[1].name = 'http'))).toEqual(['/spec/ports/1/name: duplicate port name http (already at /spec/ports/0)']);
    expect(checkEdited(SERVICE, (d) => delete d.spec.ports[1].name)).toEqual(['/spec/ports/1/name: a name is required when a Service has more than one port']);
  });

  it('EndpointSlice: addresses of the slice\'s addressType, unique port names', () => {
    expect(checkEdited(ENDPOINT_SLICE, (d) => (d.endpoints[1].addresses = ['fd00::4']))).toEqual([
      '/endpoints/1/addresses/0: must be an IPv4 address (addressType IPv4); got "fd00::4"',
    ]);
    expect(checkEdited(ENDPOINT_SLICE, (d) => ((d.addressType = 'FQDN'), (d.endpoints = [{ addresses: ['db.example.com'] }])))).toEqual([]);
    expect(checkEdited(ENDPOINT_SLICE, (d) => (d.ports[1].name = 'http'))).toEqual(['/ports/1/name: duplicate port name "http" (already at /ports/0)']);
    expect(checkEdited(ENDPOINT_SLICE, (d) => delete d.addressType)).toEqual(['/addressType: missing required field "addressType"']);
  });

  it('a probe has exactly one handler; env value and valueFrom exclude each other', () => {
    expect(checkEdited(POD, (d) => (d.spec.containers[0].livenessProbe.httpGet = { port: 80 }))).toEqual([
      '/spec/containers/0/livenessProbe: a probe needs exactly one of httpGet, tcpSocket, exec, grpc; got httpGet, tcpSocket',
    ]);
    expect(checkEdited(POD, (d) => (d.spec.containers[0].env[1].value = 'x'))).toEqual([
      '/spec/containers/0/env/1/valueFrom: may not be set together with a non-empty "value"',
    ]);
  });

  it('Istio: selector vs targetRefs, CUSTOM needs a provider, known condition keys', () => {
    expect(checkEdited(AUTHORIZATION_POLICY, (d) => (d.spec.targetRefs = [{ kind: 'Service', group: '', name: 'httpbin' }]))).toEqual([
      '/spec/selector: only one of selector or targetRef/targetRefs may be set',
    ]);
    expect(checkEdited(AUTHORIZATION_POLICY, (d) => (d.spec.action = 'CUSTOM'))).toEqual(['/spec/provider: a provider name is required when action is CUSTOM']);
    expect(checkEdited(REQUEST_AUTHENTICATION, (d) => (d.spec.targetRefs[0].namespace = 'other'))).toEqual([
      '/spec/targetRefs/0/namespace: cross-namespace references are not supported; leave namespace empty',
    ]);
    expect(checkEdited(AUTHORIZATION_POLICY, (d) => (d.spec.rules[0].when[0].key = 'request.header[x]'))).toEqual([
      expect.stringMatching(/^\/spec\/rules\/0\/when\/0\/key: unknown condition key "request.header\[x\]"; use one of source.ip, /),
    ]);
    expect(checkEdited(PEER_AUTHENTICATION, (d) => delete d.spec.selector)).toEqual([
      '/spec/portLevelMtls: needs a selector: port-level mTLS applies to selected workloads only',
    ]);
    expect(checkEdited(PEER_AUTHENTICATION, (d) => (d.spec.portLevelMtls = { http: { mode: 'STRICT' } }))).toEqual([
      expect.stringMatching(/^\/spec\/portLevelMtls\/http: invalid key "http": must match pattern .*a port number/),
    ]);
  });

  it('DestinationRule: one load balancer kind, one hash key, unique subsets', () => {
    expect(checkEdited(DESTINATION_RULE, (d) => (d.spec.trafficPolicy.loadBalancer.simple = 'RANDOM'))).toEqual([
      '/spec/trafficPolicy/loadBalancer/consistentHash: "simple" and "consistentHash" are mutually exclusive',
    ]);
    expect(checkEdited(DESTINATION_RULE, (d) => (d.spec.trafficPolicy.loadBalancer.consistentHash.useSourceIp = true))).toEqual([
      '/spec/trafficPolicy/loadBalancer/consistentHash: needs exactly one hash key of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName; got httpCookie, useSourceIp',
    ]);
    expect(checkEdited(DESTINATION_RULE, (d) => d.spec.subsets.push({ name: 'testversion', labels: { version: 'v4' } }))).toEqual([
      '/spec/subsets/1/name: duplicate subset name testversion (already at /spec/subsets/0)',
    ]);
  });

  it('Gateway API: filter type matches its field, redirects have no backends, unique listeners', () => {
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].filters[0].type = 'ResponseHeaderModifier'))).toEqual([
      '/spec/rules/0/filters/0/responseHeaderModifier: required when type is ResponseHeaderModifier',
      '/spec/rules/0/filters/0/requestHeaderModifier: must not be set when type is ResponseHeaderModifier',
    ]);
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[1].backendRefs = [{ name: 'x', port: 80 }]))).toEqual([
      '/spec/rules/1/backendRefs: must be empty when the rule has a RequestRedirect filter (the redirect is the response)',
    ]);
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].matches[0].path.value = 'reviews'))).toEqual([
      '/spec/rules/0/matches/0/path/value: must be an absolute path starting with "/" for type PathPrefix; got "reviews"',
    ]);
    expect(checkEdited(HTTP_ROUTE, (d) => (d.spec.rules[0].timeouts.backendRequest = '1m'))).toEqual([
      '/spec/rules/0/timeouts/backendRequest: must not be longer than timeouts.request (10s)',
    ]);
    expect(checkEdited(INGRESS_GATEWAY, (d) => (d.spec.listeners[1].name = 'http'))).toEqual([
      '/spec/listeners/1/name: duplicate listener name http (already at /spec/listeners/0)',
    ]);
    expect(checkEdited(GRPC_ROUTE, (d) => (d.spec.rules[0].matches[0].method = { type: 'Exact' }))).toEqual([
      '/spec/rules/0/matches/0/method: needs service, method or both',
    ]);
  });

  it('FaultInjection: at least one fault, one abort status', () => {
    expect(checkEdited(FAULT_INJECTION, (d) => (d.spec = {}))).toEqual(['/spec: needs at least one of delay or abort']);
    expect(checkEdited(FAULT_INJECTION, (d) => (d.spec.abort.grpcStatus = 'UNAVAILABLE'))).toEqual(['/spec/abort: needs exactly one of httpStatus or grpcStatus']);
  });

  it('LocalRateLimit: a bucket of at least one token, filled every whole millisecond or more', () => {
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => delete d.spec.tokensPerFill)).toEqual([]);
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => (d.spec.fillInterval = '1.1s'))).toEqual([]);
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => (d.spec.fillInterval = '500us'))).toEqual(['/spec/fillInterval: must be at least 1ms']);
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => (d.spec.fillInterval = '0'))).toEqual(['/spec/fillInterval: must be at least 1ms']);
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => (d.spec.fillInterval = '1500us'))).toEqual(['/spec/fillInterval: must be a whole number of milliseconds; got 1.5ms']);
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => (d.spec.fillInterval = '1200h'))).toEqual(['/spec/fillInterval: must be at most 4294967295ms (about 49 days)']);
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => (d.spec = { maxTokens: 0, tokensPerFill: 1.5, fillInterval: '1 s' }))).toEqual([
      '/spec/maxTokens: must be >= 1; got 0',
      '/spec/tokensPerFill: must be integer; got number',
      expect.stringMatching(/^\/spec\/fillInterval: must match pattern .*a duration such as "1s".*; got "1 s"$/),
    ]);
    expect(checkEdited(LOCAL_RATE_LIMIT, (d) => (d.spec = {}))).toEqual([
      '/spec/maxTokens: missing required field "maxTokens"',
      '/spec/fillInterval: missing required field "fillInterval"',
    ]);
  });
});

describe('the schema files', () => {
  const files = fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json'));
  const load = (f: string): any => JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, f), 'utf8'));

  it('there is one per supported kind, and its apiVersions match SUPPORTED_KINDS', () => {
    for (const [kind, versions] of Object.entries(SUPPORTED_KINDS) as Array<[SupportedKind, readonly string[]]>) {
      const schema = load(schemaFileOf(kind));
      expect(schema.properties.kind.const).toBe(kind);
      expect(schema.properties.apiVersion.enum).toEqual(versions);
    }
  });

  // The configuration reference is generated from these descriptions.
  it('every property, definition, list item and map value has a description', () => {
    const missing: string[] = [];
    const walk = (node: unknown, where: string, needsDescription: boolean): void => {
      if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
      const n = node as Record<string, any>;
      if (needsDescription && typeof n.description !== 'string') missing.push(where);
      for (const [name, child] of Object.entries(n.properties ?? {})) walk(child, `${where}/properties/${name}`, true);
      for (const [name, child] of Object.entries(n.definitions ?? {})) walk(child, `${where}/definitions/${name}`, true);
      // A list item or map value that only $refs a definition is described by that definition.
      for (const key of ['items', 'additionalProperties']) {
        if (typeof n[key] === 'object') walk(n[key], `${where}/${key}`, typeof n[key].$ref !== 'string');
      }
      for (const sub of n.allOf ?? []) walk(sub, `${where}/allOf`, false);
    };
    for (const f of files) walk(load(f), f, true);
    expect(missing).toEqual([]);
  });
});
