// DestinationRule -> DestinationPolicy (networking.istio.io trafficPolicy), durations in ms and the
// host made fully qualified the way Istio resolves short names.
import type { DestinationPolicy } from '../../common/proto/generated/ambit/v1/DestinationPolicy';
import type { TrafficPolicy } from '../../common/proto/generated/ambit/v1/TrafficPolicy';
import type { KubeObject } from '../kube/objects';
import { qualifyHost, TranslateContext, Warn } from './context';
import { optionalDurationMs } from './duration';
import { Annotations } from './labels';

interface TrafficPolicySpec {
  loadBalancer?: {
    simple?: 'UNSPECIFIED' | 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH' | 'LEAST_CONN';
    consistentHash?: {
      httpHeaderName?: string;
      httpCookie?: { name: string; path?: string; ttl?: string };
      useSourceIp?: boolean;
      httpQueryParameterName?: string;
      ringHash?: { minimumRingSize?: number };
      maglev?: { tableSize?: number };
      minimumRingSize?: number;
    };
  };
  connectionPool?: {
    tcp?: { maxConnections?: number; connectTimeout?: string };
    http?: { http1MaxPendingRequests?: number; http2MaxRequests?: number; maxRequestsPerConnection?: number; maxRetries?: number; idleTimeout?: string };
  };
  outlierDetection?: {
    consecutive5xxErrors?: number;
    consecutiveGatewayErrors?: number;
    interval?: string;
    baseEjectionTime?: string;
    maxEjectionPercent?: number;
    minHealthPercent?: number;
  };
  portLevelSettings?: Array<{ port: { number: number } } & TrafficPolicySpec>;
}

interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicySpec;
  subsets?: Array<{ name: string; labels?: Record<string, string>; trafficPolicy?: TrafficPolicySpec }>;
}

/** "20" or "20,3": percent of active requests that may be retries, and a floor of concurrent retries. */
function retryBudget(annotation: string | undefined, warn: Warn): TrafficPolicy['retryBudget'] {
  if (annotation === undefined) return null;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%?\s*(?:,\s*([0-9]+)\s*)?$/.exec(annotation);
  if (m === null || Number(m[1]) > 100) {
    warn(`annotation ${Annotations.RETRY_BUDGET}="${annotation}" must be "<percent 0-100>[,<min retry concurrency>]", e.g. "20,3"; ignored`, '/metadata/annotations');
    return null;
  }
  return { budgetPercent: Number(m[1]), minRetryConcurrency: m[2] === undefined ? 3 : Number(m[2]) };
}

function trafficPolicy(tp: TrafficPolicySpec | undefined): TrafficPolicy | null {
  if (tp === undefined) return null;
  const lb = tp.loadBalancer;
  const ch = lb?.consistentHash;
  const simple = lb?.simple === 'LEAST_CONN' ? 'LEAST_REQUEST' : lb?.simple === 'UNSPECIFIED' || lb?.simple === undefined ? 'LB_UNSPECIFIED' : lb.simple;
  const pool = tp.connectionPool;
  const od = tp.outlierDetection;
  return {
    loadBalancer: lb === undefined ? null : {
      simple,
      consistentHash: ch === undefined ? null : {
        ...(ch.httpHeaderName !== undefined ? { httpHeaderName: ch.httpHeaderName } : {}),
        ...(ch.httpCookie !== undefined ? { httpCookie: { name: ch.httpCookie.name, path: ch.httpCookie.path ?? '', ttlMs: optionalDurationMs(ch.httpCookie.ttl) } } : {}),
        ...(ch.useSourceIp !== undefined ? { useSourceIp: ch.useSourceIp } : {}),
        ...(ch.httpQueryParameterName !== undefined ? { httpQueryParameterName: ch.httpQueryParameterName } : {}),
        ...(ch.maglev !== undefined
          ? { maglevTableSize: ch.maglev.tableSize ?? 65537 }
          : { ringHashMinimumRingSize: ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? 1024 }),
      },
    },
    connectionPool: pool === undefined ? null : {
      tcp: pool.tcp === undefined ? null : { maxConnections: pool.tcp.maxConnections ?? 0, connectTimeoutMs: optionalDurationMs(pool.tcp.connectTimeout) },
      http: pool.http === undefined ? null : {
        http1MaxPendingRequests: pool.http.http1MaxPendingRequests ?? 0,
        http2MaxRequests: pool.http.http2MaxRequests ?? 0,
        maxRequestsPerConnection: pool.http.maxRequestsPerConnection ?? 0,
        maxRetries: pool.http.maxRetries ?? 0,
        idleTimeoutMs: optionalDurationMs(pool.http.idleTimeout),
      },
    },
    outlierDetection: od === undefined ? null : {
      consecutive_5xxErrors: od.consecutive5xxErrors ?? 5,
      consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? 0,
      intervalMs: od.interval === undefined ? 10_000 : optionalDurationMs(od.interval),
      baseEjectionTimeMs: od.baseEjectionTime === undefined ? 30_000 : optionalDurationMs(od.baseEjectionTime),
      maxEjectionPercent: od.maxEjectionPercent ?? 10,
      minHealthPercent: od.minHealthPercent ?? 0,
    },
    retryBudget: null,
  };
}

export function translateDestinationRule(ctx: TranslateContext, dr: KubeObject<DestinationRuleSpec>, warn: Warn): DestinationPolicy {
  const namespace = dr.metadata.namespace ?? 'default';
  const spec = dr.spec ?? { host: '' };
  const top = trafficPolicy(spec.trafficPolicy) ?? {};
  const budget = retryBudget(dr.metadata.annotations?.[Annotations.RETRY_BUDGET], warn);
  return {
    name: dr.metadata.name,
    namespace,
    host: qualifyHost(ctx.mesh, spec.host, namespace),
    trafficPolicy: { ...top, retryBudget: budget },
    portLevelSettings: (spec.trafficPolicy?.portLevelSettings ?? []).map((p) => ({ port: p.port.number, trafficPolicy: trafficPolicy(p) })),
    subsets: (spec.subsets ?? []).map((s) => ({ name: s.name, labels: s.labels ?? {}, trafficPolicy: trafficPolicy(s.trafficPolicy) })),
  };
}
