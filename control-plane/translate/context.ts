// What every translator is handed: mesh settings, read access to the raw objects, and a way to
// report problems about the object being translated.
import type { KubeStore } from '../model/kube-store';

export interface MeshConfig {
  /** SPIFFE trust domain; identities are spiffe://<trustDomain>/ns/<ns>/sa/<sa>. */
  readonly trustDomain: string;
  /** Istio's root namespace: policies here without a selector apply mesh-wide. */
  readonly rootNamespace: string;
  /** Service hostnames are <name>.<namespace>.svc.<domainSuffix>. */
  readonly domainSuffix: string;
}

export const DEFAULT_MESH_CONFIG: MeshConfig = Object.freeze({
  trustDomain: 'cluster.local',
  rootNamespace: 'istio-system',
  domainSuffix: 'cluster.local',
});

/** Reports a warning about the object being translated (the model attaches kind/namespace/name). */
export type Warn = (message: string, field?: string) => void;

export interface TranslateContext {
  readonly mesh: MeshConfig;
  readonly kube: KubeStore;
}

export const serviceHostname = (mesh: MeshConfig, name: string, namespace: string): string =>
  `${name}.${namespace}.svc.${mesh.domainSuffix}`;

/**
 * A DestinationRule host as written, resolved the way Istio does: a name without a dot ("reviews")
 * is a Service in the rule's namespace; anything with a dot is taken as written (Istio does not
 * expand "reviews.prod", which is why its docs recommend fully qualified names).
 */
export function qualifyHost(mesh: MeshConfig, host: string, namespace: string): string {
  return host.includes('.') || host.includes('*') ? host : serviceHostname(mesh, host, namespace);
}
