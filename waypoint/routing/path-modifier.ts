/**
 * Gateway API HTTPPathModifier, shared by RequestRedirect and URLRewrite.
 *
 * ReplacePrefixMatch replaces the part of the path the rule's PathPrefix matched, element by
 * element, per the table in the HTTPPathModifier docs (prefix "/foo"):
 *   "/foo/bar" + "/xyz" or "/xyz/" -> "/xyz/bar";  "/foo" + "/xyz" -> "/xyz";
 *   "/foo/" + "/xyz" -> "/xyz/";  "/foo/bar" + "" or "/" -> "/bar";  "/foo" + "" or "/" -> "/".
 * It is only valid with a PathPrefix match (the API rejects anything else); with another match
 * the path is left unchanged rather than guessed at.
 */
import type { PathModifier__Output } from '../../common/proto/generated/ambit/v1/PathModifier';
import type { RouteMatch__Output } from '../../common/proto/generated/ambit/v1/RouteMatch';
import { normalizedPrefix, underPrefix } from './route-match';

/** The new path (without query) for `path` (without query). */
export function modifiedPath(path: string, m: PathModifier__Output | null, match: RouteMatch__Output | null): string {
  if (m === null) return path;
  if (m.type === 'ReplaceFullPath') return m.replaceFullPath;
  if (m.type !== 'ReplacePrefixMatch') return path;
  // A rule without matches is PathPrefix "/" (HTTPRouteRule.matches default).
  const p = match === null || match.path === null ? { type: 'PATH_PREFIX', value: '/' } : match.path;
  if (p.type !== 'PATH_PREFIX') return path;
  const prefix = normalizedPrefix(p.value);
  if (!underPrefix(path, prefix)) return path;
  // The rest starts with "/" or is empty, so drop the replacement's trailing "/" to avoid "//".
  const out = normalizedPrefix(m.replacePrefixMatch) + path.slice(prefix.length);
  return out === '' ? '/' : out;
}

/** "?query" of a request target, or "". */
export function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? '' : target.slice(q);
}
