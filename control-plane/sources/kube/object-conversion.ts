/**
 * An object from the Kubernetes API to what the model takes, by the same path the YAML source
 * uses (nulls dropped as the API server decodes them, validateObject against the same schemas,
 * frozen, fingerprinted), so both sources feed the model identical input.
 *
 * Two differences, both because the API server has already validated the object:
 * - server bookkeeping the model never reads (managedFields) is dropped, to keep memory and
 *   fingerprints free of churn;
 * - on Kubernetes' own kinds (Pod, Service, Namespace, ServiceAccount, EndpointSlice) a field
 *   Ambit's schema does not know is a newer Kubernetes field, not a typo: it is dropped, not a
 *   reason to refuse the pod (which would take it out of the mesh). Istio and Gateway API objects
 *   are checked strictly, as from YAML: an unknown field in a policy may change what it means.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey, type KubeObject, type ObjectKey } from '../../kube/objects';
import { parsePointer } from '../../validation/field-path';
import { validateObject, type ValidationIssue } from '../../validation/validate-object';
import type { ConfigProblem } from '../source';
import { dropNulls } from '../yaml/file-objects';
import { canonicalJson, deepFreeze } from '../yaml/object-fingerprint';
import type { WatchedResource } from './watched-resources';

export interface Converted {
  readonly key: ObjectKey;
  /** Frozen; absent when the object is invalid (see problems). */
  readonly object?: KubeObject;
  readonly fingerprint?: string;
  readonly problems: ConfigProblem[];
  /** Unknown fields dropped from a core object (JSON pointers), for a debug line. */
  readonly dropped: string[];
}

const UNKNOWN_FIELD = /^unknown field /;

function removeAt(doc: unknown, pointer: string): void {
  const path = parsePointer(pointer);
  const last = path.pop();
  let parent: any = doc;
  for (const p of path) parent = parent?.[p];
  if (last !== undefined && parent !== null && typeof parent === 'object') delete parent[last];
}

export function convertObject(source: string, resource: WatchedResource, raw: KubernetesObject): Converted {
  const o = structuredClone(raw) as Record<string, any>;
  // The API answers in the version that was asked for; list items may carry no type at all.
  o.apiVersion = resource.apiVersion;
  o.kind = resource.kind;
  if (o.metadata !== null && typeof o.metadata === 'object') delete o.metadata.managedFields;
  dropNulls(o);
  const key = objectKey({ kind: resource.kind, metadata: { name: String(o.metadata?.name ?? ''), namespace: o.metadata?.namespace } });

  let issues: ValidationIssue[] = validateObject(o);
  const dropped: string[] = [];
  if (resource.builtin && issues.length > 0 && issues.some((i) => UNKNOWN_FIELD.test(i.message))) {
    for (const issue of issues.filter((i) => UNKNOWN_FIELD.test(i.message))) {
      removeAt(o, issue.path);
      dropped.push(issue.path);
    }
    issues = validateObject(o);
  }
  if (issues.length > 0) {
    const { namespace, name } = o.metadata ?? {};
    const problems = issues.map<ConfigProblem>((issue) => ({
      severity: 'error',
      source,
      kind: resource.kind,
      namespace,
      name,
      field: issue.path,
      message: `${issue.message}; the version served before this one stays in effect until the object is fixed (kubectl edit ${resource.plural}${namespace ? ` -n ${namespace}` : ''} ${name})`,
    }));
    return { key, problems, dropped };
  }
  const object = deepFreeze(o as KubeObject);
  return { key, object, fingerprint: canonicalJson(object), problems: [], dropped };
}
