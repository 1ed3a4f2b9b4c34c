// Sandbox errors: each carries a stable code and says which step failed, so a failed `ambit local
// up` or privileged test points at the command or resource instead of "exit code 2".

export const SandboxErrorCodes = {
  /** A system tool (ip, sysctl, mount) failed or timed out. */
  COMMAND: 'AMBIT_ERR_SANDBOX_COMMAND',
  /** One or more teardown actions failed; the message lists them. */
  CLEANUP: 'AMBIT_ERR_SANDBOX_CLEANUP',
  /** A command run to completion inside a pod outlived its timeout and was killed. */
  EXEC_TIMEOUT: 'AMBIT_ERR_SANDBOX_EXEC_TIMEOUT',
  /** A path or name that is not a sandbox resource was about to be changed or removed. */
  NOT_OURS: 'AMBIT_ERR_SANDBOX_NOT_OURS',
} as const;

export class SandboxCommandError extends Error {
  readonly code: string = SandboxErrorCodes.COMMAND;
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    reason: string,
  ) {
    super(`\`${command}\` ${reason}${stderr ? `: ${stderr.trim()}` : ''}`);
    this.name = 'SandboxCommandError';
  }
}

export class CleanupError extends AggregateError {
  readonly code: string = SandboxErrorCodes.CLEANUP;
  constructor(errors: Error[]) {
    super(errors, `cleanup: ${errors.length} action(s) failed: ${errors.map((e) => e.message).join('; ')}`);
    this.name = 'CleanupError';
  }
}

export class ExecTimeoutError extends Error {
  readonly code: string = SandboxErrorCodes.EXEC_TIMEOUT;
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`\`${command}\` did not exit within ${timeoutMs} ms and was killed; stderr: ${stderr.trim() || '(empty)'}`);
    this.name = 'ExecTimeoutError';
  }
}

/** Refusal to touch something outside the sandbox families (see names.ts). */
export class NotOursError extends Error {
  readonly code: string = SandboxErrorCodes.NOT_OURS;
  constructor(what: string, why: string) {
    super(`refusing to touch ${what}: ${why}`);
    this.name = 'NotOursError';
  }
}
