/**
 * `to.operation.paths` matching. Istio matches paths without the query string, case-sensitively,
 * with its wildcard rules ("/exact", "/prefix*", "*suffix", "*") and, since Istio 1.22, path
 * templates: `{*}` is exactly one non-empty path segment, `{**}` any remainder of the path (Envoy's
 * uri_template operators; Istio only accepts `{**}` as the last operator).
 */
import type { StringMatch__Output } from '../../common/proto/generated/ambit/v1/StringMatch';
import { Matcher, matchKind, stringMatcher } from '../../common/policy/string-match';

const TEMPLATE = /\{\*\*?\}/;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A template like "/api/{*}/items/{**}" as an anchored regular expression. */
function templateRegex(template: string): RegExp {
  const parts = template.split(/(\{\*\*\}|\{\*\})/);
  const body = parts.map((p) => (p === '{**}' ? '.*' : p === '{*}' ? '[^/]+' : escape(p))).join('');
  return new RegExp(`^${body}$`);
}

export function pathMatcher(m: StringMatch__Output): Matcher<string | undefined> {
  if (matchKind(m) === 'exact' && TEMPLATE.test(m.exact ?? '')) {
    const re = templateRegex(m.exact ?? '');
    return (v) => v !== undefined && re.test(v);
  }
  return stringMatcher(m);
}

/**
 * RFC 3986 section 5.2.4 dot-segment removal. Envoy normalizes the path before RBAC runs (Istio's
 * default BASE normalization); RequestFacts.path is as received, so authorization resolves "."
 * and ".." itself, or "/public/../admin" would slip past a DENY on "/admin*".
 */
export function normalizePath(path: string): string {
  if (!path.includes('.')) return path;
  const out: string[] = [];
  const segments = path.split('/');
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..' && out.length > 1) out.pop();
      if (last) out.push('');
      return;
    }
    out.push(seg);
  });
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}
