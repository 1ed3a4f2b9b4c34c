/**
 * The CA's audit trail: exactly one line per issuance (info) and one per refusal (warn), each
 * marked `audit: true` so a log pipeline can route them apart. Lines carry names, serials and
 * fingerprints; never a key, a token or the CSR.
 */
import type { Logger } from '../../common/log';
import type { AuthenticatedWorkload } from '../auth/node-authenticator';

export interface IssuedAudit {
  readonly node: string;
  /** A workload calling for itself (a waypoint pod), as opposed to its node's agent. */
  readonly workload?: AuthenticatedWorkload;
  readonly identity: string;
  /** Lowercase hex. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the certificate DER, lowercase hex. */
  readonly fingerprint: string;
  readonly peer?: string;
}

export interface RefusedAudit {
  /** Unknown when authentication itself failed. */
  readonly node: string | undefined;
  readonly workload?: AuthenticatedWorkload;
  /** As requested (truncated): it may be the very thing that was wrong. */
  readonly identity: string;
  /** The AMBIT_ERR_* code, or INTERNAL. */
  readonly code: string;
  readonly reason: string;
  readonly peer?: string;
}

const MAX_FIELD = 256;

export function auditIssued(logger: Logger, e: IssuedAudit): void {
  logger.info(
    {
      audit: true,
      event: 'certificate_issued',
      node: e.node,
      pod: podOf(e.workload),
      identity: e.identity,
      serial: e.serial,
      notBefore: e.notBefore.toISOString(),
      notAfter: e.notAfter.toISOString(),
      fingerprint: e.fingerprint,
      peer: e.peer,
    },
    'issued workload certificate',
  );
}

export function auditRefused(logger: Logger, e: RefusedAudit): void {
  logger.warn(
    {
      audit: true,
      event: 'certificate_refused',
      node: e.node,
      pod: podOf(e.workload),
      identity: clip(e.identity),
      code: e.code,
      reason: e.reason,
      peer: e.peer,
    },
    'refused workload certificate',
  );
}

/** "ns/pod" of a workload caller; undefined (no field) for a node agent. */
function podOf(w: AuthenticatedWorkload | undefined): string | undefined {
  return w === undefined ? undefined : `${w.namespace}/${w.pod}`;
}

function clip(s: string): string {
  return s.length > MAX_FIELD ? `${s.slice(0, MAX_FIELD)}...` : s;
}
