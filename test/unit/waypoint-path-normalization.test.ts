// The path every waypoint stage sees (and the backend receives): unreserved escapes decoded, dot
// segments removed, encoded slashes and the query kept.
import { normalizePath } from '../../waypoint/pipeline/path-normalization';

it.each([
  ['/a/b', '/a/b'],
  ['/public/../admin', '/admin'],
  ['/public/%2e%2e/admin', '/admin'],
  ['/public/%2E%2e/admin?x=../y', '/admin?x=../y'],
  ['/a/./b/.', '/a/b/'],
  ['/a/b/..', '/a/'],
  ['/../../etc', '/etc'],
  ['/%41dmin', '/Admin'],
  ['/a%2Fb', '/a%2Fb'],
  ['/a%20b', '/a%20b'],
  ['//double//slash', '//double//slash'],
  ['*', '*'],
])('%s -> %s', (input, expected) => {
  expect(normalizePath(input)).toBe(expected);
});
