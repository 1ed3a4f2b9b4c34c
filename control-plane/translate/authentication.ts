// PeerAuthentication and RequestAuthentication -> their resources (Istio security.istio.io).
import type { MtlsMode } from '../../common/proto/generated/ambit/v1/MtlsMode';
import type { PeerAuthentication } from '../../common/proto/generated/ambit/v1/PeerAuthentication';
import type { RequestAuthentication } from '../../common/proto/generated/ambit/v1/RequestAuthentication';
import type { KubeObject } from '../kube/objects';
import { TranslateContext, Warn } from './context';
import { optionalDurationMs } from './duration';
import { attachedTargetRefs, policyScope, ScopedSpec } from './policy-scope';

type ModeName = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

interface PeerAuthenticationSpec extends ScopedSpec {
  mtls?: { mode?: ModeName };
  portLevelMtls?: Record<string, { mode?: ModeName }>;
}

interface JwtRuleSpec {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  fromHeaders?: Array<{ name: string; prefix?: string }>;
  fromParams?: string[];
  fromCookies?: string[];
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: Array<{ header: string; claim: string }>;
  outputPayloadToHeader?: string;
  timeout?: string;
}

interface RequestAuthenticationSpec extends ScopedSpec {
  jwtRules?: JwtRuleSpec[];
}

export function translatePeerAuthentication(ctx: TranslateContext, pa: KubeObject<PeerAuthenticationSpec>, warn: Warn): PeerAuthentication {
  const namespace = pa.metadata.namespace ?? 'default';
  const spec = pa.spec ?? {};
  const selector = spec.selector?.matchLabels ?? {};
  const portLevel: Record<number, MtlsMode> = {};
  for (const [port, v] of Object.entries(spec.portLevelMtls ?? {})) portLevel[Number(port)] = v.mode ?? 'UNSET';
  if (Object.keys(portLevel).length > 0 && Object.keys(selector).length === 0) {
    // Istio ignores port-level settings on a policy without a selector; say so instead of silently.
    warn('portLevelMtls is only honoured on a policy with a selector (Istio semantics); it is ignored here', '/spec/portLevelMtls');
  }
  if (spec.mtls?.mode === 'DISABLE') {
    warn('mode DISABLE: HBONE between ambient workloads is always mutual TLS; DISABLE only means plaintext is not refused (as PERMISSIVE)', '/spec/mtls/mode');
  }
  return {
    name: pa.metadata.name,
    namespace,
    scope: policyScope(ctx.mesh, namespace, spec),
    selector,
    mode: spec.mtls?.mode ?? 'UNSET',
    portLevelMtls: Object.keys(selector).length > 0 ? portLevel : {},
  };
}

export function translateRequestAuthentication(ctx: TranslateContext, ra: KubeObject<RequestAuthenticationSpec>, warn: Warn): RequestAuthentication {
  const namespace = ra.metadata.namespace ?? 'default';
  const spec = ra.spec ?? {};
  return {
    name: ra.metadata.name,
    namespace,
    scope: policyScope(ctx.mesh, namespace, spec),
    selector: spec.selector?.matchLabels ?? {},
    targetRefs: attachedTargetRefs(ctx, spec, namespace, warn),
    jwtRules: (spec.jwtRules ?? []).map((r) => ({
      issuer: r.issuer,
      audiences: r.audiences ?? [],
      jwksUri: r.jwksUri ?? '',
      jwks: r.jwks ?? '',
      fromHeaders: (r.fromHeaders ?? []).map((h) => ({ name: h.name, prefix: h.prefix ?? '' })),
      fromParams: r.fromParams ?? [],
      fromCookies: r.fromCookies ?? [],
      forwardOriginalToken: r.forwardOriginalToken ?? false,
      outputClaimToHeaders: r.outputClaimToHeaders ?? [],
      outputPayloadToHeader: r.outputPayloadToHeader ?? '',
      timeoutMs: optionalDurationMs(r.timeout),
    })),
  };
}
