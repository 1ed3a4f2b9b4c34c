/**
 * Logs each configuration problem once, as a warning with the problem's fields, while it persists;
 * a problem that is fixed and comes back is logged again.
 */
import type { Logger } from '../../../common/log';
import type { ConfigProblem } from '../source';
import { canonicalJson } from './object-fingerprint';

export class ProblemLog {
  private logged = new Set<string>();

  constructor(private readonly logger: Logger) {}

  report(problems: readonly ConfigProblem[]): void {
    const current = new Set<string>();
    for (const problem of problems) {
      const id = canonicalJson(problem);
      current.add(id);
      if (this.logged.has(id)) continue;
      const { message, ...fields } = problem;
      this.logger.warn(fields, message);
    }
    this.logged = current;
  }
}
