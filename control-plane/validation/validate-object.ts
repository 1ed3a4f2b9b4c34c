/**
 * validateObject: is this document a supported kind at a supported apiVersion, valid against its
 * JSON schema (control-plane/schemas/) and the upstream rules schemas cannot express? Returns every
 * issue found ([] = valid); never throws for bad input.
 */
import { SUPPORTED_KINDS, type SupportedKind } from '../kube/objects';
import { issuesFromAjv } from './ajv-issues';
import { isObj } from './check-helpers';
import { schemaRegistry } from './schema-registry';
import { semanticIssues } from './semantic-checks';
import type { ValidationIssue } from './validation-issue';

export type { ValidationIssue } from './validation-issue';
export { formatIssue } from './validation-issue';

const KIND_NAMES = Object.keys(SUPPORTED_KINDS) as SupportedKind[];

export function isSupportedKind(kind: unknown): kind is SupportedKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(SUPPORTED_KINDS, kind);
}

/** "Namespace (v1), ..., HTTPRoute (gateway.networking.k8s.io/v1, .../v1beta1), ..." for messages. */
export function supportedKindsText(): string {
  return KIND_NAMES.map((k) => `${k} (${SUPPORTED_KINDS[k].join(', ')})`).join(', ');
}

/** Kind and apiVersion checks, done first: they decide which schema applies at all. */
function typeIssues(doc: Record<string, unknown>): ValidationIssue[] {
  const { kind, apiVersion } = doc;
  if (kind === undefined) return [{ path: '/kind', message: `missing required field "kind"; supported kinds: ${supportedKindsText()}` }];
  if (!isSupportedKind(kind)) {
    return [{ path: '/kind', message: `unsupported kind ${JSON.stringify(kind)}; supported kinds: ${supportedKindsText()}` }];
  }
  const versions: readonly string[] = SUPPORTED_KINDS[kind];
  if (apiVersion === undefined) {
    return [{ path: '/apiVersion', message: `missing required field "apiVersion"; kind ${kind} supports ${versions.join(', ')}` }];
  }
  if (typeof apiVersion !== 'string' || !versions.includes(apiVersion)) {
    return [{ path: '/apiVersion', message: `kind ${kind} does not support apiVersion ${JSON.stringify(apiVersion)}; supported: ${versions.join(', ')}` }];
  }
  return [];
}

export function validateObject(doc: unknown): ValidationIssue[] {
  if (!isObj(doc)) {
    const got = doc === null ? 'null' : Array.isArray(doc) ? 'a list' : typeof doc;
    return [{ path: '', message: `a document must be a mapping with apiVersion, kind and metadata; got ${got}` }];
  }
  const typeProblems = typeIssues(doc);
  if (typeProblems.length > 0) return typeProblems;
  const kind = doc.kind as SupportedKind;
  const validate = schemaRegistry().validatorFor(kind);
  const schemaProblems = validate(doc) ? [] : issuesFromAjv(validate.errors);
  const seen = new Set(schemaProblems.map((i) => `${i.path}\n${i.message}`));
  return [...schemaProblems, ...semanticIssues(kind, doc).filter((i) => !seen.has(`${i.path}\n${i.message}`))];
}
