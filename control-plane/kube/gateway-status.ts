/**
 * The status a waypoint Gateway gets (Gateway API conditions, GEP-1364): Accepted (the class is
 * ours and the Gateway is usable as a waypoint) and Programmed (its Deployment and Service exist
 * and the Service has an address), each with a reason, a message that says what is missing, and
 * the generation it was computed for; plus status.addresses, which the model uses as the
 * waypoint's address. lastTransitionTime moves only when a condition's status or reason changes.
 */

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface GatewayStatus {
  conditions?: Condition[];
  addresses?: Array<{ type: string; value: string }>;
  [k: string]: unknown;
}

export interface WaypointOutcome {
  accepted: { ok: boolean; reason: string; message: string };
  programmed: { ok: boolean; reason: string; message: string };
  addresses: string[];
}

const nowText = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function gatewayStatus(previous: GatewayStatus | undefined, outcome: WaypointOutcome, generation: number | undefined): GatewayStatus {
  const prior = new Map((previous?.conditions ?? []).map((c) => [c.type, c]));
  const condition = (type: string, c: WaypointOutcome['accepted']): Condition => {
    const status = c.ok ? 'True' : 'False';
    const before = prior.get(type);
    const same = before !== undefined && before.status === status && before.reason === c.reason;
    return { type, status, reason: c.reason, message: c.message, observedGeneration: generation, lastTransitionTime: same ? before.lastTransitionTime : nowText() };
  };
  // Conditions of other types (another controller's, or future ones) are kept as they are.
  const others = (previous?.conditions ?? []).filter((c) => c.type !== 'Accepted' && c.type !== 'Programmed');
  return {
    ...previous,
    conditions: [condition('Accepted', outcome.accepted), condition('Programmed', outcome.programmed), ...others],
    addresses: outcome.addresses.map((value) => ({ type: 'IPAddress', value })),
  };
}

/** Equal apart from lastTransitionTime (which only moves with a change anyway). */
export function sameStatus(a: GatewayStatus | undefined, b: GatewayStatus): boolean {
  const strip = (s: GatewayStatus | undefined): string =>
    JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest) });
  return strip(a) === strip(b);
}
