/**
 * filters: what the matched rule asks for before the request goes upstream, in Gateway API
 * order: an unresolved ExtensionRef answers 500; RequestRedirect answers at once; then Ambit's
 * local rate limit (429) and fault injection (delay, abort); then RequestHeaderModifier and
 * URLRewrite change the request, ResponseHeaderModifier is kept for the response.
 */
import type { RouteFilter__Output } from '../../common/proto/generated/ambit/v1/RouteFilter';
import { WaypointErrorCodes } from '../errors';
import { faultDecision } from '../resilience/fault';
import { TokenBucket } from '../resilience/token-bucket';
import { applyHeaderModifier, faultOf, invalidExtensionRef, redirectResponse, rewriteRequest } from '../routing/filters';
import type { Exchange } from './exchange';
import type { RouteSelection } from '../routing/route-table';

type Matched = Extract<RouteSelection, { kind: 'matched' }>;

/** Token buckets per route rule, kept across config versions while their settings stay the same. */
export class RateLimits {
  private readonly buckets = new Map<string, TokenBucket>();

  bucket(key: string, cfg: { maxTokens: number; tokensPerFill: number; fillIntervalMs: number }): TokenBucket {
    const k = `${key}|${cfg.maxTokens}|${cfg.tokensPerFill}|${cfg.fillIntervalMs}`;
    let b = this.buckets.get(k);
    if (!b) {
      b = new TokenBucket(cfg);
      this.buckets.set(k, b);
    }
    return b;
  }
}

export interface FilterDeps {
  readonly rateLimits: RateLimits;
  readonly random: () => number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when the request goes on upstream; otherwise it has been answered. */
export async function applyRuleFilters(ex: Exchange, sel: Matched, filters: readonly RouteFilter__Output[], deps: FilterDeps): Promise<boolean> {
  if (invalidExtensionRef(filters)) {
    ex.reply(500, `route ${sel.name} rule ${sel.ruleIndex}: an ExtensionRef filter does not resolve (see the control plane's warnings)\n`, { code: WaypointErrorCodes.INVALID_BACKEND });
    return false;
  }
  for (const f of filters) {
    if (f.requestRedirect) {
      const r = redirectResponse(ex.facts, f.requestRedirect, sel.match, ex.ctx.mtls ? 'http' : 'http');
      ex.reply(r.status, '', { headers: { location: r.location } });
      return false;
    }
  }
  for (const f of filters) {
    const rl = (f as RouteFilter__Output & { rateLimit?: { maxTokens: number; tokensPerFill: number; fillIntervalMs: number } | null }).rateLimit;
    if (rl && !deps.rateLimits.bucket(`${sel.name}#${sel.ruleIndex}`, rl).take()) {
      ex.reply(429, 'local rate limit exceeded\n', { flag: 'RL', code: WaypointErrorCodes.RATE_LIMITED, headers: { 'x-ratelimit-limit': String(rl.maxTokens) } });
      return false;
    }
  }
  const fault = faultDecision(faultOf(filters), deps.random);
  if (fault.delayMs !== undefined) {
    ex.flag('DI');
    await sleep(fault.delayMs);
  }
  if (fault.abort) {
    const status = fault.abort.httpStatus || 503;
    ex.reply(status, 'fault filter abort\n', { flag: 'FI', grpcStatus: fault.abort.grpcStatus || undefined });
    return false;
  }
  for (const f of filters) {
    if (f.requestHeaderModifier) applyHeaderModifier(ex.facts.headers as Record<string, string | string[] | undefined>, f.requestHeaderModifier);
    if (f.responseHeaderModifier) {
      const m = f.responseHeaderModifier;
      ex.responseHeaderFilters.push((h) => applyHeaderModifier(h, m));
    }
    if (f.urlRewrite) {
      const r = rewriteRequest({ ...ex.facts, path: ex.rewrittenPath ?? ex.facts.path }, f.urlRewrite, sel.match);
      ex.rewrittenPath = r.path;
      ex.rewrittenHost = r.host;
    }
  }
  return true;
}
