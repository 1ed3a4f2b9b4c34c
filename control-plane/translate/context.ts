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
 * A DestinationRule/route host as written ("reviews", "reviews.prod", FQDN) made fully qualified
 * relative to the object's namespace, the way Istio resolves short names.
 */
export function qualifyHost(mesh: MeshConfig, host: string, namespace: string): string {
  if (host.includes('*')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return serviceHostname(mesh, host, namespace);
  if (parts.length === 2) return serviceHostname(mesh, parts[0], parts[1]);
  return host;
}
