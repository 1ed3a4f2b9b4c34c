/**
 * The request path, normalised once at `receive` and then used by every stage — routing,
 * authorization and the request sent upstream — so policy judges exactly what the backend gets
 * (Envoy's normalize_path, Istio's default BASE normalisation): percent-encoded unreserved
 * characters are decoded (RFC 3986 §2.3: `%2e` is `.`, `%41` is `A`), then `.` and `..` segments
 * removed (§5.2.4). `/public/%2e%2e/admin` becomes `/admin` before a policy sees it. Encoded
 * slashes (`%2F`) and the query stay as sent.
 */

const UNRESERVED = /%(2[dDeE]|3[0-9]|4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA]|7[eE])/g;

function decodeUnreserved(p: string): string {
  return p.indexOf('%') === -1 ? p : p.replace(UNRESERVED, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function removeDotSegments(p: string): string {
  if (!p.includes('.')) return p;
  const out: string[] = [];
  const segments = p.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    if (s === '.') {
      if (i === segments.length - 1) out.push('');
    } else if (s === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
    } else {
      out.push(s);
    }
  }
  return `/${out.join('/')}`;
}

export function normalizePath(target: string): string {
  if (!target.startsWith('/')) return target; // '*' (OPTIONS) or absolute-form: passed as sent
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  return removeDotSegments(decodeUnreserved(path)) + query;
}
