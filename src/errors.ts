/**
 * Every failure kugetsu reports to a user is a KugetsuError: a stable code for scripts and tests,
 * and a message that is one clear line for a human.
 */
export type ErrorCode =
  | 'invalid-ref'
  | 'invalid-input'
  | 'binary-missing'
  | 'unknown-session'
  | 'provider-error'
  | 'timeout'
  | 'permission-rejected'
  | 'permission-refused'
  | 'opencode-failed'
  | 'no-base'
  | 'base-exists'
  | 'not-found'
  | 'already-started'
  | 'corrupt-state'
  | 'state-locked'
  | 'sandbox-unavailable'
  | 'sandbox-failed'
  | 'key-proxy'
  | 'unsafe-state'
  | 'unverified-binary'
  | 'no-default-branch'
  | 'invalid-response'
  | 'git-failed'
  | 'push-failed'
  | 'forget-failed'
  | 'budget-exceeded'

export class KugetsuError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KugetsuError'
    this.code = code
  }
}

export function isKugetsuError(error: unknown, code?: ErrorCode): error is KugetsuError {
  return error instanceof KugetsuError && (code === undefined || error.code === code)
}

/** One line, whatever was thrown. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n')[0].trim() || 'unknown error'
}
