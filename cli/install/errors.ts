// Errors of `ambit install` (chart rendering and applying): stable codes, messages that say what to
// do next. Template errors name the template file and line, as Helm's do.
import { CodedError } from '../../common/errors';

export const InstallErrorCodes = {
  /** The chart directory is missing or its Chart.yaml / values.yaml / values.schema.json is unreadable. */
  CHART: 'AMBIT_ERR_INSTALL_CHART',
  /** A values file or --set is malformed, or the values do not meet values.schema.json. */
  VALUES: 'AMBIT_ERR_INSTALL_VALUES',
  /** A template failed to parse or render (file:line in the message), or uses what the renderer does not support. */
  TEMPLATE: 'AMBIT_ERR_INSTALL_TEMPLATE',
  /** A rendered document is not valid YAML or not a Kubernetes object. */
  MANIFEST: 'AMBIT_ERR_INSTALL_MANIFEST',
  /** --apply was asked for and kubectl is not installed (or not on PATH). */
  KUBECTL_MISSING: 'AMBIT_ERR_INSTALL_KUBECTL_MISSING',
  /** kubectl cannot reach a cluster, or the apply failed; kubectl's own message follows. */
  CLUSTER: 'AMBIT_ERR_INSTALL_CLUSTER',
  /** --output: the directory cannot be created or written. */
  OUTPUT: 'AMBIT_ERR_INSTALL_OUTPUT',
} as const;

export type InstallErrorCode = (typeof InstallErrorCodes)[keyof typeof InstallErrorCodes];

export class InstallError extends CodedError<InstallErrorCode> {}

/** Where in a template something went wrong. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
}

/** A template problem at file:line (parse error, render error, unsupported construct). */
export function templateError(pos: SourcePos, message: string): InstallError {
  return new InstallError(InstallErrorCodes.TEMPLATE, `${pos.file}:${pos.line}: ${message}`);
}
