/** One thing wrong with a document, located by a JSON-pointer field path. */
export interface ValidationIssue {
  /** JSON pointer of the offending field, e.g. /spec/rules/0/to/0/operation/ports/1 ("" = the document). */
  path: string;
  /** What is wrong and what is allowed, without the path. */
  message: string;
}

/** "<path>: <message>", the form logs and CLIs print. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.path === '' ? '/' : issue.path}: ${issue.message}`;
}
