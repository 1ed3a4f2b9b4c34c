// waypoint/security/request-authentication.ts: RequestAuthentication objects go through the real
// translator and proto codec; tokens are signed with keys generated here.
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { translateRequestAuthentication } from '../../control-plane/translate/authentication';
import { DEFAULT_MESH_CONFIG, TranslateContext } from '../../control-plane/translate/context';
import type { KubeStore } from '../../control-plane/model/kube-store';
import { decodeResource, encodeResource } from '../../common/proto/codec';
import type { RequestAuthentication__Output } from '../../common/proto/generated/ambit/v1/RequestAuthentication';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';
import { AuthnResult, RequestAuthenticator, unauthorizedResponse } from '../../waypoint/security/request-authentication';

const ISSUER = 'https://issuer.example';
const NOW = Date.UTC(2030, 0, 1);
const nowS = Math.floor(NOW / 1000);
const ctx: TranslateContext = { mesh: DEFAULT_MESH_CONFIG, kube: { list: () => [] } as unknown as KubeStore };

let key: KeyLike;
let otherKey: KeyLike;
let jwks: string;

/** Keys generated per run; the public half of `key` is the inline JWKS, `otherKey` is unknown to it. */
beforeAll(async () => {
  ({ privateKey: otherKey } = await generateKeyPair('ES256'));
  const pair = await generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
});

type JwtRuleSpec = Record<string, unknown>;

function policies(...rules: JwtRuleSpec[]): RequestAuthentication__Output[] {
  const obj = {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'jwt', namespace: 'prod' },
    spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }], jwtRules: rules.map((r) => ({ issuer: ISSUER, jwks, ...r })) },
  };
  return [decodeResource(encodeResource({ requestAuthentication: translateRequestAuthentication(ctx, obj as never, () => undefined) })).requestAuthentication!];
}

async function sign(claims: JWTPayload = {}, opts: { kid?: string; with?: KeyLike; alg?: string } = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, sub: 'alice', aud: 'api', iat: nowS, exp: nowS + 600, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? 'k1' })
    .sign(opts.with ?? key);
}

const req = (r: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  path: '/api',
  host: 'web.prod.svc.cluster.local',
  headers: {},
  protocol: 'HTTP/1.1',
  grpc: false,
  source: { address: '10.1.0.7', port: 40000 },
  destination: { address: '10.96.0.10', port: 80 },
  ...r,
});
const bearer = (token: string): RequestFacts => req({ headers: { authorization: `Bearer ${token}` } });

const authn = (p: RequestAuthentication__Output[]): RequestAuthenticator => new RequestAuthenticator(p, { now: () => NOW });

function reasonOf(r: AuthnResult): string {
  if (r.kind !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(r)}`);
  return r.reason;
}

test('a valid token authenticates: principal, claims, claim and payload headers, token removed', async () => {
  const p = policies({
    audiences: ['api'],
    outputClaimToHeaders: [
      { header: 'x-sub', claim: 'sub' },
      { header: 'X-Groups', claim: 'groups' },
      { header: 'x-missing', claim: 'nope' },
    ],
    outputPayloadToHeader: 'x-jwt-payload',
  });
  const token = await sign({ groups: ['dev', 'ops'], azp: 'cli' });
  const r = await authn(p).authenticate(bearer(token));
  expect(r).toEqual({
    kind: 'authenticated',
    issuer: ISSUER,
    auth: { principal: `${ISSUER}/alice`, claims: expect.objectContaining({ sub: 'alice', groups: ['dev', 'ops'] }), audiences: ['api'], presenter: 'cli' },
    removeHeaders: ['authorization'],
    removeQueryParams: [],
    setHeaders: { 'x-sub': 'alice', 'x-groups': '["dev","ops"]', 'x-jwt-payload': token.split('.')[1] },
  });
  const payload = JSON.parse(Buffer.from((r as { setHeaders: Record<string, string> }).setHeaders['x-jwt-payload'], 'base64url').toString());
  expect(payload.sub).toBe('alice');
});

test('no token: none (authorization decides); a header without the Bearer prefix holds no token', async () => {
  const a = authn(policies({}));
  expect(await a.authenticate(req())).toEqual({ kind: 'none' });
  expect(await a.authenticate(req({ headers: { authorization: 'Basic dXNlcjpwdw==' } }))).toEqual({ kind: 'none' });
  expect(await new RequestAuthenticator([]).authenticate(bearer('x.y.z'))).toEqual({ kind: 'none' });
});

test('expired, within clock skew, and not yet valid', async () => {
  const a = authn(policies({}));
  expect(reasonOf(await a.authenticate(bearer(await sign({ exp: nowS - 120 }))))).toBe('Jwt is expired');
  expect((await a.authenticate(bearer(await sign({ exp: nowS - 30 })))).kind).toBe('authenticated');
  expect(reasonOf(await a.authenticate(bearer(await sign({ nbf: nowS + 300 }))))).toBe('Jwt not yet valid');
});

test('an issuer no rule accepts is invalid', async () => {
  const r = await authn(policies({})).authenticate(bearer(await sign({ iss: 'https://evil.example' })));
  expect(reasonOf(r)).toBe('Jwt issuer is not configured: https://evil.example');
});

test('audiences: one of the configured ones must be in aud', async () => {
  const a = authn(policies({ audiences: ['billing', 'api'] }));
  expect((await a.authenticate(bearer(await sign({ aud: ['web', 'api'] })))).kind).toBe('authenticated');
  expect(reasonOf(await a.authenticate(bearer(await sign({ aud: 'web' }))))).toMatch(/^Audiences in Jwt are not allowed/);
  // No audiences configured: any aud is fine.
  expect((await authn(policies({})).authenticate(bearer(await sign({ aud: 'anything' })))).kind).toBe('authenticated');
});

test('a tampered payload fails the signature check', async () => {
  const [h, body, sig] = (await sign()).split('.');
  const forged = Buffer.from(Buffer.from(body, 'base64url').toString().replace('"alice"', '"admin"')).toString('base64url');
  expect(forged).not.toBe(body);
  expect(reasonOf(await authn(policies({})).authenticate(bearer(`${h}.${forged}.${sig}`)))).toBe('Jwt verification fails');
});

test('a key the JWKS does not have (unknown kid, or another key pair)', async () => {
  const a = authn(policies({}));
  expect(reasonOf(await a.authenticate(bearer(await sign({}, { kid: 'k9' }))))).toBe("Jwks doesn't have key to match kid or alg from Jwt");
  expect(reasonOf(await a.authenticate(bearer(await sign({}, { with: otherKey, alg: 'ES256' }))))).toBe("Jwks doesn't have key to match kid or alg from Jwt");
});

test('malformed and unsigned tokens are invalid', async () => {
  const a = authn(policies({}));
  expect(reasonOf(await a.authenticate(bearer('not-a-jwt')))).toMatch(/^Jwt is malformed/);
  const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'a' })).toString('base64url')}.`;
  expect((await a.authenticate(bearer(unsigned))).kind).toBe('invalid');
});

test('token in the access_token query parameter is accepted and removed upstream', async () => {
  const token = await sign();
  const r = await authn(policies({})).authenticate(req({ path: `/api?x=1&access_token=${token}` }));
  expect(r).toMatchObject({ kind: 'authenticated', removeQueryParams: ['access_token'], removeHeaders: [] });
});

test('forwardOriginalToken keeps the token', async () => {
  const r = await authn(policies({ forwardOriginalToken: true })).authenticate(bearer(await sign()));
  expect(r).toMatchObject({ kind: 'authenticated', removeHeaders: [], removeQueryParams: [] });
});

test('fromHeaders with a prefix and fromCookies replace the default locations', async () => {
  const token = await sign();
  const a = authn(policies({ fromHeaders: [{ name: 'X-Jwt', prefix: 'Token ' }], fromCookies: ['session'] }));
  expect(await a.authenticate(req({ headers: { 'x-jwt': `Token ${token}` } }))).toMatchObject({ kind: 'authenticated', removeHeaders: ['x-jwt'] });
  expect(await a.authenticate(req({ headers: { cookie: `theme=dark; session=${token}` } }))).toMatchObject({ kind: 'authenticated', removeHeaders: [] });
  expect(await a.authenticate(bearer(token))).toEqual({ kind: 'none' });
});

test('two different tokens in one request are refused', async () => {
  const r = await authn(policies({})).authenticate(req({ path: `/?access_token=${await sign({ sub: 'bob' })}`, headers: { authorization: `Bearer ${await sign()}` } }));
  expect(reasonOf(r)).toMatch(/^multiple JWTs in the request/);
  // The same token in two places is one token.
  const t = await sign();
  expect((await authn(policies({})).authenticate(req({ path: `/?access_token=${t}`, headers: { authorization: `Bearer ${t}` } }))).kind).toBe('authenticated');
});

test('an invalid inline JWKS makes its issuer\'s tokens invalid', async () => {
  const r = await authn(policies({ jwks: '{"nokeys": true}' })).authenticate(bearer(await sign()));
  expect(reasonOf(r)).toMatch(/^inline jwks of https:\/\/issuer.example is invalid/);
});

test('unauthorizedResponse: 401, the reason, an RFC 6750 challenge', () => {
  const res = unauthorizedResponse({ kind: 'invalid', reason: 'Jwt is expired' }, { host: 'web.prod:8080', path: '/a?b=1' });
  expect(res).toEqual({
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="http://web.prod:8080/a", error="invalid_token"', 'content-type': 'text/plain; charset=utf-8' },
    body: 'Jwt is expired',
  });
});
