/**
 * The effective PeerAuthentication mTLS mode for one workload port, with Istio's precedence
 * (pilot/pkg/model/authentication.go ComposePeerAuthentication, also used for ambient):
 *
 *   start PERMISSIVE
 *   -> mesh-wide policy (root namespace, no selector: scope GLOBAL), unless UNSET
 *   -> namespace-wide policy (the workload's namespace, no selector), unless UNSET
 *   -> workload policy (the workload's namespace, selector matching its labels), unless UNSET
 *   -> that workload policy's portLevelMtls[port]; UNSET there inherits what the steps above gave
 *
 * Among several candidates at one level the oldest wins in Istio. The Ambit resource carries no
 * creation time, so the lexicographically smallest name wins instead: deterministic across agents
 * and restarts, which matters more than matching Istio's tie-break on a configuration Istio itself
 * warns against. A selector policy in the root namespace is ignored, as Istio does (it is neither
 * mesh-wide nor in the workload's namespace). DISABLE is returned as is: for HBONE it only means
 * plaintext is accepted, like PERMISSIVE (see authentication.proto).
 *
 * Pure: no I/O.
 */
import type { MtlsMode__Output } from '../../common/proto/generated/ambit/v1/MtlsMode';
import type { PeerAuthentication__Output } from '../../common/proto/generated/ambit/v1/PeerAuthentication';

export type EffectiveMtlsMode = Exclude<MtlsMode__Output, 'UNSET'>;

export interface MtlsDecision {
  readonly mode: EffectiveMtlsMode;
  /** "<namespace>/<name>" of the policy that set the mode; undefined for the PERMISSIVE default. */
  readonly policy: string | undefined;
  /** True when the mode came from a portLevelMtls entry. */
  readonly portLevel: boolean;
}

export interface PeerAuthenticationTarget {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PeerAuthenticationOptions {
  /**
   * Istio's root namespace (mesh config rootNamespace). Needed only to ignore selector policies
   * placed there when the workload itself runs in it; mesh-wide policies are recognised by scope.
   */
  readonly rootNamespace?: string;
}

const key = (p: PeerAuthentication__Output): string => `${p.namespace}/${p.name}`;
const hasSelector = (p: PeerAuthentication__Output): boolean => Object.keys(p.selector ?? {}).length > 0;

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The candidate that wins a level: smallest name (stand-in for Istio's oldest). */
function winner(candidates: PeerAuthentication__Output[]): PeerAuthentication__Output | undefined {
  let best: PeerAuthentication__Output | undefined;
  for (const p of candidates) if (best === undefined || key(p) < key(best)) best = p;
  return best;
}

/** The policies that decide for `workload`: at most one per level. */
export function peerAuthenticationLevels(
  workload: PeerAuthenticationTarget,
  policies: Iterable<PeerAuthentication__Output>,
  opts: PeerAuthenticationOptions = {},
): { mesh?: PeerAuthentication__Output; namespace?: PeerAuthentication__Output; workload?: PeerAuthentication__Output } {
  const mesh: PeerAuthentication__Output[] = [];
  const ns: PeerAuthentication__Output[] = [];
  const wl: PeerAuthentication__Output[] = [];
  for (const p of policies) {
    if (p.scope === 'GLOBAL') mesh.push(p);
    else if (p.namespace !== workload.namespace || p.scope === 'TARGET_REFS') continue;
    else if (!hasSelector(p)) ns.push(p);
    else if (p.namespace !== opts.rootNamespace && selects(p.selector, workload.labels)) wl.push(p);
  }
  return { mesh: winner(mesh), namespace: winner(ns), workload: winner(wl) };
}

/** The mTLS mode enforced on inbound connections to `port` of `workload`. */
export function effectiveMtls(
  workload: PeerAuthenticationTarget,
  port: number,
  policies: Iterable<PeerAuthentication__Output>,
  opts: PeerAuthenticationOptions = {},
): MtlsDecision {
  const levels = peerAuthenticationLevels(workload, policies, opts);
  let decision: MtlsDecision = { mode: 'PERMISSIVE', policy: undefined, portLevel: false };
  for (const p of [levels.mesh, levels.namespace, levels.workload]) {
    if (p !== undefined && p.mode !== 'UNSET') decision = { mode: p.mode, policy: key(p), portLevel: false };
  }
  const portMode = levels.workload?.portLevelMtls?.[port];
  if (portMode !== undefined && portMode !== 'UNSET') decision = { mode: portMode, policy: key(levels.workload!), portLevel: true };
  return decision;
}
