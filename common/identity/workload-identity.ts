// The SPIFFE URI a workload's certificate carries; agents and waypoints check peers against it.
import type { Workload__Output } from '../proto/generated/ambit/v1/Workload';
import { DEFAULT_TRUST_DOMAIN, formatSpiffeId } from './spiffe';

export function workloadIdentity(w: Pick<Workload__Output, 'trustDomain' | 'namespace' | 'serviceAccount'>): string {
  return formatSpiffeId({ trustDomain: w.trustDomain || DEFAULT_TRUST_DOMAIN, namespace: w.namespace, serviceAccount: w.serviceAccount || 'default' });
}
