// What a walkthrough step is: a title, and a run that prints what it did and measured, checks
// what it expected (a miss fails the step, and so the demo), and returns its headline figure.
import type { Progress } from '../progress';
import type { DemoMesh } from './demo-mesh';

export interface StepContext {
  readonly mesh: DemoMesh;
  readonly progress: Progress;
  /** Prints `detail`; when `ok` is false prints it as a failure and fails the step. */
  check(ok: boolean, detail: string): void;
  /** http://<ClusterIP>:<port><path> of a Service of the demo namespace. */
  serviceUrl(service: string, path: string): string;
}

export interface Step {
  readonly title: string;
  /** Returns the figure the summary shows for this step. */
  run(ctx: StepContext): Promise<string>;
}

export interface StepResult {
  title: string;
  ok: boolean;
  figure: string;
  ms: number;
}
