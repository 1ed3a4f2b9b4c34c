/**
 * Where configuration comes from. A source (a directory of YAML today, Kubernetes informers later)
 * delivers validated Kubernetes-shaped objects to a sink as upserts and removals, and reports the
 * problems it found. A document that fails validation is never delivered: the sink keeps the last
 * good version of that object, so a bad edit never takes working config away.
 */
import type { KubeObject, ObjectKey } from '../kube/objects';

export type ProblemSeverity = 'error' | 'warning';

/** One thing wrong with the configuration, precise enough to fix without guessing. */
export interface ConfigProblem {
  severity: ProblemSeverity;
  /** The source's name (e.g. "yaml:/path/to/dir"). */
  source: string;
  /** File the document came from (YAML source). */
  file?: string;
  /** 1-based index of the document in a multi-document file. */
  document?: number;
  /** 1-based line of the document or field when known. */
  line?: number;
  kind?: string;
  namespace?: string;
  name?: string;
  /** JSON-pointer-like field path, e.g. /spec/rules/0/to/0/operation/ports/1. */
  field?: string;
  message: string;
}

export interface SourceChanges {
  upsert: readonly KubeObject[];
  remove: readonly ObjectKey[];
}

export interface SourceSink {
  /** Objects this source added, changed or removed since its previous call. */
  apply(changes: SourceChanges): void;
  /** The source's current problems; replaces the list it reported before ([] = all good). */
  problems(list: readonly ConfigProblem[]): void;
  /** The source has delivered its first complete view (called once, after the first apply). */
  synced(): void;
}

export interface ConfigSource {
  readonly name: string;
  /** Delivers the initial view, then keeps watching until stop(). Rejects if it cannot start at all. */
  start(sink: SourceSink): Promise<void>;
  /** Stops watching; idempotent. */
  stop(): Promise<void>;
}
