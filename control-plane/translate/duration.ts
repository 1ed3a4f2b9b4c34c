// Duration strings as Istio (protobuf Duration, e.g. "1.5s") and Gateway API (GEP-2257, e.g.
// "1h2m", "250ms") write them, to milliseconds. Schemas already checked the format; this only
// converts, and throws on anything it cannot read so a bug surfaces instead of a silent zero.

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
const PART = /([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/y;

export function durationMs(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    PART.lastIndex = at;
    const m = PART.exec(s);
    if (m === null) throw new RangeError(`"${text}" is not a duration (use e.g. 250ms, 1.5s, 1h2m)`);
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = PART.lastIndex;
  }
  if (at === 0) throw new RangeError(`"${text}" is not a duration (use e.g. 250ms, 1.5s, 1h2m)`);
  return Math.round(total);
}

/** durationMs for optional fields: undefined stays 0 ("not set"). */
export function optionalDurationMs(text: string | undefined): number {
  return text === undefined ? 0 : durationMs(text);
}
