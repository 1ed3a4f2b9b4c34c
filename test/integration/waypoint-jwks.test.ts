// JWKS from a jwksUri served by a real local HTTP server: caching, refresh on an unknown kid
// (rate-limited), the 20-minute refresh, keeping the last good set, and the failure reason.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { decodeResource, encodeResource } from '../../common/proto/codec';
import type { RequestAuthentication__Output } from '../../common/proto/generated/ambit/v1/RequestAuthentication';
import { translateRequestAuthentication } from '../../control-plane/translate/authentication';
import { DEFAULT_MESH_CONFIG, TranslateContext } from '../../control-plane/translate/context';
import type { KubeStore } from '../../control-plane/model/kube-store';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';
import { JwksCache, HttpJwksSource } from '../../waypoint/security/jwks-cache';
import { AuthnResult, RequestAuthenticator } from '../../waypoint/security/request-authentication';

const ISSUER = 'https://issuer.example';
const ctx: TranslateContext = { mesh: DEFAULT_MESH_CONFIG, kube: { list: () => [] } as unknown as KubeStore };

interface Signer {
  kid: string;
  priv: KeyLike;
  pub: JWK;
}
async function signer(kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, priv: privateKey, pub: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}

/** The issuer's JWKS endpoint: what it serves and how it answers are set by each test. */
const served: { keys: JWK[]; status: number; hang: boolean; hits: number } = { keys: [], status: 200, hang: false, hits: 0 };
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    served.hits++;
    if (served.hang) return; // never answers: the client's timeout must fire
    res.writeHead(served.status, { 'content-type': 'application/json' });
    res.end(served.status === 200 ? JSON.stringify({ keys: served.keys }) : 'unavailable');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => Object.assign(served, { keys: [], status: 200, hang: false, hits: 0 }));

function policies(jwksUri: string, timeout?: string): RequestAuthentication__Output[] {
  const obj = {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'jwt', namespace: 'prod' },
    spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }], jwtRules: [{ issuer: ISSUER, jwksUri, ...(timeout ? { timeout } : {}) }] },
  };
  return [decodeResource(encodeResource({ requestAuthentication: translateRequestAuthentication(ctx, obj as never, () => undefined) })).requestAuthentication!];
}

let clock = Date.now();
const now = (): number => clock;

const token = (s: Signer): Promise<string> =>
  new SignJWT({ iss: ISSUER, sub: 'alice', exp: Math.floor(clock / 1000) + 3600 }).setProtectedHeader({ alg: 'ES256', kid: s.kid }).sign(s.priv);

const bearer = (t: string): RequestFacts => ({
  method: 'GET',
  path: '/',
  host: 'web',
  headers: { authorization: `Bearer ${t}` },
  protocol: 'HTTP/1.1',
  grpc: false,
  source: { address: '10.1.0.7', port: 40000 },
  destination: { address: '10.96.0.10', port: 80 },
});

const kindOf = (r: AuthnResult): string => (r.kind === 'invalid' ? `invalid: ${r.reason}` : r.kind);
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

test('keys are fetched once, refetched for an unknown kid at most once a minute', async () => {
  const k1 = await signer('k1');
  const k2 = await signer('k2');
  const k3 = await signer('k3');
  served.keys = [k1.pub];
  const a = new RequestAuthenticator(policies(`${base}/jwks`), { now });
  for (let i = 0; i < 3; i++) expect(kindOf(await a.authenticate(bearer(await token(k1))))).toBe('authenticated');
  expect(served.hits).toBe(1);

  // The issuer rotates to k2: the unknown kid triggers one refetch.
  clock += 61_000;
  served.keys = [k1.pub, k2.pub];
  expect(kindOf(await a.authenticate(bearer(await token(k2))))).toBe('authenticated');
  expect(served.hits).toBe(2);

  // k3 appears right after: no refetch within a minute, so k3 tokens fail until then.
  served.keys = [k1.pub, k2.pub, k3.pub];
  expect(kindOf(await a.authenticate(bearer(await token(k3))))).toBe("invalid: Jwks doesn't have key to match kid or alg from Jwt");
  expect(served.hits).toBe(2);
  clock += 61_000;
  expect(kindOf(await a.authenticate(bearer(await token(k3))))).toBe('authenticated');
  expect(served.hits).toBe(3);
});

test('refreshed every 20 minutes in the background; a failed refresh keeps the last good keys', async () => {
  const k1 = await signer('k1');
  served.keys = [k1.pub];
  const cache = new JwksCache(new HttpJwksSource(), { now });
  const a = new RequestAuthenticator(policies(`${base}/jwks`), { cache, now });
  expect(kindOf(await a.authenticate(bearer(await token(k1))))).toBe('authenticated');
  expect(served.hits).toBe(1);

  clock += 20 * 60_000;
  served.status = 503;
  expect(kindOf(await a.authenticate(bearer(await token(k1))))).toBe('authenticated');
  await settle();
  expect(served.hits).toBe(2);
  // The failed refresh is not retried on every request.
  expect(kindOf(await a.authenticate(bearer(await token(k1))))).toBe('authenticated');
  expect(served.hits).toBe(2);

  // A new authenticator (new config version) sharing the cache fetches nothing.
  const b = new RequestAuthenticator(policies(`${base}/jwks`), { cache, now });
  expect(kindOf(await b.authenticate(bearer(await token(k1))))).toBe('authenticated');
  expect(served.hits).toBe(2);
});

test('a URI never fetched successfully makes its tokens invalid with the reason', async () => {
  const k1 = await signer('k1');
  served.status = 500;
  const uri = `${base}/broken`;
  const a = new RequestAuthenticator(policies(uri), { now });
  expect(kindOf(await a.authenticate(bearer(await token(k1))))).toBe(`invalid: JWKS for ${ISSUER} could not be fetched from ${uri}: HTTP 500`);
  // Retried at most once a minute, then served again once the issuer recovers.
  const hits = served.hits;
  await a.authenticate(bearer(await token(k1)));
  expect(served.hits).toBe(hits);
  served.status = 200;
  served.keys = [k1.pub];
  clock += 61_000;
  expect(kindOf(await a.authenticate(bearer(await token(k1))))).toBe('authenticated');
});

test('the rule timeout bounds the fetch', async () => {
  const k1 = await signer('k1');
  served.hang = true;
  const uri = `${base}/slow`;
  const a = new RequestAuthenticator(policies(uri, '200ms'), { now });
  const started = Date.now();
  expect(kindOf(await a.authenticate(bearer(await token(k1))))).toBe(`invalid: JWKS for ${ISSUER} could not be fetched from ${uri}: timed out after 200 ms`);
  expect(Date.now() - started).toBeLessThan(3000);
});
