/**
 * What the agent shows about each identity it holds (/config_dump, `ambit status`): enough to
 * answer "why does this pod have no certificate" without reading logs.
 */
import type { WorkloadCertificate } from '../identity/workload-certificate';
import type { IdentityError } from './identity-errors';

export type IdentityState =
  /** No certificate yet; the first request is in flight. */
  | 'pending'
  /** A valid certificate; the next refresh is scheduled. */
  | 'valid'
  /** A valid certificate; its replacement is being requested. */
  | 'refreshing'
  /** The last request failed; the next attempt waits for its backoff. A valid certificate, if any, is still served. */
  | 'retrying'
  /** The certificate expired before a replacement could be had; nothing is served. */
  | 'expired';

export interface IdentityStatus {
  /** SPIFFE URI. */
  readonly identity: string;
  /** acquire() calls not yet released. */
  readonly references: number;
  readonly state: IdentityState;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** When the next request is due (refresh or retry); undefined while one is in flight. */
  readonly nextRefresh?: Date;
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: Date };
}

/** The mutable per-identity facts the state is derived from. */
export interface StatusFacts {
  readonly uri: string;
  readonly refs: number;
  readonly cert: WorkloadCertificate | undefined;
  readonly inflight: boolean;
  readonly nextAttemptAt: Date | undefined;
  readonly failures: number;
  readonly lastError: { readonly error: IdentityError; readonly at: Date } | undefined;
}

export function identityState(f: StatusFacts, now: number): IdentityState {
  if (f.cert === undefined) return f.failures > 0 && !f.inflight ? 'retrying' : 'pending';
  if (f.cert.notAfter.getTime() <= now) return 'expired';
  if (f.inflight) return 'refreshing';
  return f.failures > 0 ? 'retrying' : 'valid';
}

export function identityStatus(f: StatusFacts, now: number): IdentityStatus {
  return {
    identity: f.uri,
    references: f.refs,
    state: identityState(f, now),
    notBefore: f.cert?.notBefore,
    notAfter: f.cert?.notAfter,
    nextRefresh: f.inflight ? undefined : f.nextAttemptAt,
    consecutiveFailures: f.failures,
    lastError:
      f.lastError === undefined ? undefined : { code: f.lastError.error.code, message: f.lastError.error.message, at: f.lastError.at },
  };
}
