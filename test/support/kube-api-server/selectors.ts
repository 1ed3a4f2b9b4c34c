/**
 * Label and field selectors as the API server parses them (equality and set-based label
 * requirements; field selectors on metadata.name, metadata.namespace and spec.nodeName).
 */

type Labels = Readonly<Record<string, string>> | undefined;
type Requirement = (labels: Labels) => boolean;

export class SelectorError extends Error {}

/** Parses a labelSelector query value; '' matches everything. */
export function parseLabelSelector(text: string | null): Requirement {
  if (text === null || text.trim() === '') return () => true;
  const reqs = splitTopLevel(text).map(parseRequirement);
  return (labels) => reqs.every((req) => req(labels));
}

/** Commas inside "in (a,b)" do not separate requirements. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.filter((s) => s !== '');
}

function parseRequirement(req: string): Requirement {
  let m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
  if (m !== null) {
    const [, key, op, value] = m;
    return op === '!=' ? (l) => l?.[key] !== value : (l) => l?.[key] === value;
  }
  m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
  if (m !== null) {
    const [, key, op, list] = m;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (l) => l?.[key] !== undefined && values.has(l[key]) : (l) => l?.[key] === undefined || !values.has(l[key]);
  }
  m = /^(!?)([^!=\s(),]+)$/.exec(req);
  if (m !== null) {
    const [, not, key] = m;
    return not === '!' ? (l) => l?.[key] === undefined : (l) => l?.[key] !== undefined;
  }
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(req)}`);
}

const FIELDS: Record<string, (o: Record<string, any>) => unknown> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
  'spec.nodeName': (o) => o.spec?.nodeName,
};

/** Parses a fieldSelector query value; only the fields above, with =, == and !=. */
export function parseFieldSelector(text: string | null): (o: Record<string, any>) => boolean {
  if (text === null || text.trim() === '') return () => true;
  const reqs = text.split(',').map((req) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(req.trim());
    const get = m === null ? undefined : FIELDS[m[1]];
    if (m === null || get === undefined) throw new SelectorError(`field label not supported: ${req}`);
    const value = m[3];
    return m[2] === '!=' ? (o: Record<string, any>) => (get(o) ?? '') !== value : (o: Record<string, any>) => (get(o) ?? '') === value;
  });
  return (o) => reqs.every((req) => req(o));
}
