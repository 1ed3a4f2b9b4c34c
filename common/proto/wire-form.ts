/**
 * The compact wire form of a Resource: what a client can derive is left off the wire by the server
 * (toWire) and filled back in by every decoder (fromWire), so decoded resources are the same
 * objects as before. In a 10k-pod snapshot this is a third of the bytes:
 *
 *   - Resource.key, when it is the natural key: a workload's uid; "<namespace>/<name>"; routes:
 *     "<HTTPRoute|GRPCRoute>/<namespace>/<name>" (the keys control-plane/model/translator.ts gives);
 *   - Workload.uid, when it is a pod's uid "Kubernetes//Pod/<namespace>/<name>";
 *   - Endpoint.workload_uid, when it is a pod of the service's own namespace: the pod's name goes
 *     in Endpoint.workload_name instead (Kubernetes selects endpoints in the service's namespace);
 *     decoded endpoints keep it (proto3 `optional`, so the generated types did not change shape).
 *
 * proto3 cannot tell an empty string from one left out, so a workload with an empty uid (no id at
 * all; the model never makes one) decodes with the pod uid of its namespace and name.
 */
import type { Endpoint, Endpoint__Output } from './generated/ambit/v1/Endpoint';
import type { Resource, Resource__Output } from './generated/ambit/v1/Resource';
import type { ResourceKey__Output } from './generated/ambit/v1/ResourceKey';
import type { Service } from './generated/ambit/v1/Service';

const POD_UID_PREFIX = 'Kubernetes//Pod/';

/** The uid of pod `namespace/name` (Istio's form, with an empty cluster id). */
export const podUid = (namespace: string, name: string): string => `${POD_UID_PREFIX}${namespace}/${name}`;

type Named = { name?: string; namespace?: string } | null | undefined;

const nsName = (x: Named): string => `${x?.namespace ?? ''}/${x?.name ?? ''}`;

/** The natural key of `r`, or undefined when it holds no resource at all. */
export function naturalKey(r: Readonly<Resource> | Readonly<Resource__Output>): ResourceKey__Output | undefined {
  if (r.workload != null) return { type: 'WORKLOAD', name: r.workload.uid ?? '' };
  if (r.service != null) return { type: 'SERVICE', name: nsName(r.service) };
  if (r.authorization != null) return { type: 'AUTHORIZATION', name: nsName(r.authorization) };
  if (r.peerAuthentication != null) return { type: 'PEER_AUTHENTICATION', name: nsName(r.peerAuthentication) };
  if (r.requestAuthentication != null) return { type: 'REQUEST_AUTHENTICATION', name: nsName(r.requestAuthentication) };
  if (r.destinationPolicy != null) return { type: 'DESTINATION_POLICY', name: nsName(r.destinationPolicy) };
  if (r.route != null) {
    const grpc = r.route.kind === 'GRPC' || r.route.kind === 1;
    return { type: 'ROUTE', name: `${grpc ? 'GRPCRoute' : 'HTTPRoute'}/${nsName(r.route)}` };
  }
  return undefined;
}

/** An endpoint of a service in `namespace`, compacted when it is one of that namespace's pods. */
function endpointToWire(e: Readonly<Endpoint>, namespace: string): Readonly<Endpoint> {
  const uid = e.workloadUid ?? '';
  const prefix = `${POD_UID_PREFIX}${namespace}/`;
  if (!uid.startsWith(prefix) || uid.length === prefix.length || uid.indexOf('/', prefix.length) !== -1) return e;
  const { workloadUid: _uid, ...rest } = e;
  return { ...rest, workloadName: uid.slice(prefix.length) };
}

/** `r` as the server encodes it: everything fromWire can restore is left out. */
export function toWire(r: Readonly<Resource>): Readonly<Resource> {
  let out: Resource = r;
  const natural = naturalKey(r);
  if (r.key != null && natural !== undefined && natural.type === r.key.type && natural.name === r.key.name) {
    const { key: _key, ...rest } = r;
    out = rest;
  }
  const w = r.workload;
  if (w != null && w.name && w.uid === podUid(w.namespace ?? '', w.name)) {
    const { uid: _uid, ...rest } = w;
    out = { ...out, workload: rest };
  }
  const s = r.service;
  if (s != null && (s.endpoints?.length ?? 0) > 0) {
    const service: Service = { ...s, endpoints: s.endpoints!.map((e) => endpointToWire(e, s.namespace ?? '')) };
    out = { ...out, service };
  }
  return out;
}

/** Restores in place what toWire left out; returns `r`. */
export function fromWire(r: Resource__Output): Resource__Output {
  const w = r.workload;
  if (w != null && w.uid === '' && w.name !== '') w.uid = podUid(w.namespace, w.name);
  const s = r.service;
  if (s != null) {
    for (const e of s.endpoints as Endpoint__Output[]) {
      if (e.workloadUid === '' && e.workloadName) e.workloadUid = podUid(s.namespace, e.workloadName);
    }
  }
  if (r.key === null) r.key = naturalKey(r) ?? null;
  return r;
}
