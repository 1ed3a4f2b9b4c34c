/**
 * The translated resources the control plane serves, as the push engine and the CA see them.
 * The model (control-plane/model/mesh-model.ts) implements this; consumers only read and subscribe.
 */
import type { Resource } from '../../common/proto/generated/ambit/v1/Resource';

/** Resource types without the protobuf "unspecified" value. */
export type ResourceTypeName =
  | 'WORKLOAD'
  | 'SERVICE'
  | 'AUTHORIZATION'
  | 'PEER_AUTHENTICATION'
  | 'REQUEST_AUTHENTICATION'
  | 'ROUTE'
  | 'DESTINATION_POLICY';

export const RESOURCE_TYPES: readonly ResourceTypeName[] = [
  'WORKLOAD',
  'SERVICE',
  'AUTHORIZATION',
  'PEER_AUTHENTICATION',
  'REQUEST_AUTHENTICATION',
  'ROUTE',
  'DESTINATION_POLICY',
];

/** `<type>:<name>`; the name is `<namespace>/<name>`, or the uid for workloads. */
export type ResourceId = string;

export const resourceId = (type: ResourceTypeName, name: string): ResourceId => `${type}:${name}`;

export interface StoredResource {
  readonly id: ResourceId;
  readonly type: ResourceTypeName;
  readonly name: string;
  /** Bumped each time this resource's content changes; lets consumers cache encodings. */
  readonly revision: number;
  /** Never mutated after it is stored (a change stores a new object); frozen at the top level. */
  readonly resource: Readonly<Resource>;
}

export interface RemovedResource {
  readonly id: ResourceId;
  readonly type: ResourceTypeName;
  readonly name: string;
}

/** One applied batch of changes. */
export interface ResourceDelta {
  /** The store generation after this batch. */
  readonly generation: number;
  readonly upserted: readonly StoredResource[];
  readonly removed: readonly RemovedResource[];
}

export interface ResourceStore {
  /** Bumped once per applied batch. */
  readonly generation: number;
  get(id: ResourceId): StoredResource | undefined;
  all(): Iterable<StoredResource>;
  ofType(type: ResourceTypeName): Iterable<StoredResource>;
  count(type: ResourceTypeName): number;
  /** Called after every batch; returns the unsubscribe function. */
  subscribe(listener: (delta: ResourceDelta) => void): () => void;
}

/** What the CA asks before issuing an identity to a node. */
export interface IdentityDirectory {
  /** True when a pod with service account `namespace/serviceAccount` is scheduled on `node`. */
  hasIdentityOnNode(node: string, namespace: string, serviceAccount: string): boolean;
}
