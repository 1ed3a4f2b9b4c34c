/**
 * ExtensionRef filters of HTTPRoute / GRPCRoute rules, resolved to the Ambit objects they name
 * (same namespace as the route, as Gateway API's LocalObjectReference says). The resolved content
 * travels inside the RouteFilter, so a waypoint never looks objects up; a change of the object
 * re-translates the routes of its namespace (model/change-impact.ts).
 */
import type { RouteFilter } from '../../common/proto/generated/ambit/v1/RouteFilter';
import type { KubeObject } from '../kube/objects';
import type { TranslateContext, Warn } from './context';
import { durationMs, optionalDurationMs } from './duration';

export interface ExtensionRefSpec { group: string; kind: string; name: string }

interface FaultSpec {
  delay?: { percentage?: { value: number }; fixedDelay?: string };
  abort?: { percentage?: { value: number }; httpStatus?: number; grpcStatus?: number | string };
}

interface LocalRateLimitSpec { maxTokens: number; tokensPerFill?: number; fillInterval: string }

const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** Kinds of group ambit.dev an ExtensionRef may name; change-impact re-translates routes on their changes. */
export const EXTENSION_KINDS: ReadonlySet<string> = new Set(['FaultInjection', 'LocalRateLimit']);

function fault(s: FaultSpec): NonNullable<RouteFilter['fault']> {
  const grpc = s.abort?.grpcStatus;
  return {
    delayPercent: s.delay?.percentage?.value ?? (s.delay !== undefined ? 100 : 0),
    fixedDelayMs: optionalDurationMs(s.delay?.fixedDelay),
    abortPercent: s.abort?.percentage?.value ?? (s.abort !== undefined ? 100 : 0),
    abortHttpStatus: s.abort?.httpStatus ?? 0,
    abortGrpcStatus: typeof grpc === 'string' ? GRPC_CODES[grpc] ?? 2 : grpc ?? 0,
  };
}

/** Envoy's token_bucket defaults made explicit: tokens_per_fill 1. */
function rateLimit(s: LocalRateLimitSpec): NonNullable<RouteFilter['rateLimit']> {
  return { maxTokens: s.maxTokens, tokensPerFill: s.tokensPerFill ?? 1, fillIntervalMs: durationMs(s.fillInterval) };
}

/** Sets fault / rateLimit on `out` when the reference resolves; otherwise warns (the rule answers 500). */
export function resolveExtensionRef(ctx: TranslateContext, ref: ExtensionRefSpec, namespace: string, out: RouteFilter, warn: Warn, field: string): void {
  const { group, kind, name } = ref;
  const obj = group === 'ambit.dev' && EXTENSION_KINDS.has(kind) ? ctx.kube.getByName<KubeObject>(kind, namespace, name) : undefined;
  if (obj === undefined) {
    // Gateway API: a rule with an unresolvable filter answers 500 rather than skipping the filter.
    warn(`extensionRef ${group}/${kind} ${namespace}/${name} does not resolve (supported: ambit.dev/FaultInjection, ambit.dev/LocalRateLimit); the rule answers 500 until it does`, `${field}/extensionRef`);
  } else if (kind === 'FaultInjection') {
    out.fault = fault((obj.spec ?? {}) as FaultSpec);
  } else {
    out.rateLimit = rateLimit(obj.spec as LocalRateLimitSpec);
  }
}
