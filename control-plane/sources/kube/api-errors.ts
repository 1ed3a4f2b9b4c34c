/**
 * Kubernetes API failures in operator terms: the HTTP status (ApiException.code, or statusCode
 * on a failed watch) and the Status message, plus what to do for the usual causes.
 */

/** The HTTP status of a failed API call, if it got that far. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

/** The `message` of a metav1.Status given as a JSON string or a parsed object. */
function messageOfStatus(body: unknown): string | undefined {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

/**
 * One line saying what the server said. ApiException's own message spans lines
 * ("HTTP-Code: 403\nMessage: ...\nBody: {...}\nHeaders: {...}"): the Status message in its body
 * is what matters, else its Message line.
 */
function detailOf(err: unknown): string {
  const fromBody = messageOfStatus((err as { body?: unknown } | undefined)?.body);
  if (fromBody !== undefined) return fromBody;
  const text = (err as Error | undefined)?.message ?? String(err);
  const m = /^HTTP-Code: \d+\nMessage: (.*)\nBody: (.*)\nHeaders: /s.exec(text);
  if (m === null) return text.split('\n')[0];
  return messageOfStatus(m[2]) ?? m[1];
}

export const isConflict = (err: unknown): boolean => httpStatusOf(err) === 409;
export const isNotFound = (err: unknown): boolean => httpStatusOf(err) === 404;

/** "<action> failed: HTTP 403: <server's message>; <what to do>", on one line. */
export function describeApiError(action: string, err: unknown): string {
  const status = httpStatusOf(err);
  const detail = detailOf(err);
  const sysCode = (err as { code?: unknown; cause?: { code?: unknown } } | undefined)?.cause?.code ?? (err as { code?: unknown }).code;
  let hint = '';
  if (status === 401) hint = '; the credentials in the kubeconfig (or the pod\'s service-account token) were refused';
  else if (status === 403) hint = '; the control plane\'s service account lacks this permission: see the RBAC list in docs/kubernetes.md';
  // The API server's wording for an API it does not serve (an object that is missing says so itself).
  else if (status === 404 && /could not find the requested resource/.test(detail)) hint = '; the API is not served: is its CRD installed?';
  else if (status === undefined && typeof sysCode === 'string') hint = `; the API server is unreachable (${sysCode})`;
  return `${action} failed: ${status === undefined ? '' : `HTTP ${status}: `}${detail}${hint}`;
}
