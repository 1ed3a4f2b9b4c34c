// Errors of `ambit cni-install`, the CNI installer the agent DaemonSet runs: stable codes, and
// messages that name the file or setting and say what to do.

export const CniInstallErrorCodes = {
  /** A setting (flag or AMBIT_CNI_* variable) is missing or invalid. */
  SETTINGS: 'AMBIT_ERR_CNI_INSTALL_SETTINGS',
  /** The primary CNI config cannot be chained: not JSON, not a network config, or a cniVersion ambit-cni does not speak. */
  CONFIG: 'AMBIT_ERR_CNI_INSTALL_CONFIG',
  /** A file in the CNI bin or conf directory cannot be read, written or watched. */
  IO: 'AMBIT_ERR_CNI_INSTALL_IO',
} as const;

export type CniInstallErrorCode = (typeof CniInstallErrorCodes)[keyof typeof CniInstallErrorCodes];

export class CniInstallError extends Error {
  constructor(
    readonly code: CniInstallErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CniInstallError';
  }
}

/** An fs failure as a CniInstallError naming what was being done ("cannot write /etc/cni/net.d/10-x.conflist: EACCES ..."). */
export function ioError(action: string, err: unknown): CniInstallError {
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' ? '; the installer runs as root and needs the host directory mounted read-write' : '';
  return new CniInstallError(CniInstallErrorCodes.IO, `cannot ${action}: ${e.message}${hint}`, { cause: err });
}
