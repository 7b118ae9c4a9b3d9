/**
 * What a failed opencode command means, for both drivers: OpencodeRunError and the one place each
 * kind of failure (timeout, abort, unknown session, exit, error event, rejection) is worded.
 */
import { KugetsuError, type ErrorCode } from '../errors.js'
import { isProviderError, lastLine } from './events.js'
import type { RunResult } from './types.js'

/** A failed opencode command: a KugetsuError with what was known when it failed. */
export class OpencodeRunError extends KugetsuError {
  /** What the run had produced (sessionId is '' when opencode never reported one). */
  readonly result?: RunResult
  readonly exitCode: number | null
  readonly exitSignal: NodeJS.Signals | null
  /** stderr without colour codes (the end of it, when it was long). */
  readonly stderr: string
  /** Set when the run was stopped through RunRequest.signal rather than by its timeout. */
  readonly aborted: boolean

  constructor(
    code: ErrorCode,
    message: string,
    details: {
      result?: RunResult
      exitCode?: number | null
      exitSignal?: NodeJS.Signals | null
      stderr?: string
      aborted?: boolean
      cause?: unknown
    } = {}
  ) {
    super(code, message, { cause: details.cause })
    this.name = 'OpencodeRunError'
    this.result = details.result
    this.exitCode = details.exitCode ?? null
    this.exitSignal = details.exitSignal ?? null
    this.stderr = details.stderr ?? ''
    this.aborted = details.aborted ?? false
  }
}

export type FailureDetails = ConstructorParameters<typeof OpencodeRunError>[2]

/** How an opencode process ended: enough to say why. */
export interface ProcessExit {
  exitCode: number | null
  exitSignal: NodeJS.Signals | null
  stderr: string
}

function describeSignal(signal: AbortSignal): string {
  const reason: unknown = signal.reason
  if (reason instanceof Error && reason.name !== 'AbortError') return `: ${reason.message}`
  if (typeof reason === 'string' && reason) return `: ${reason}`
  return ''
}

export function timedOutRun(timeoutMs: number, details?: FailureDetails): OpencodeRunError {
  return new OpencodeRunError('timeout', `opencode run timed out after ${timeoutMs} ms`, details)
}

/** A run stopped (or never started) because `signal` (RunRequest.signal) was aborted. */
export function abortedRun(
  signal: AbortSignal | undefined,
  details: FailureDetails = {}
): OpencodeRunError {
  const reason = signal ? describeSignal(signal) : ''
  return new OpencodeRunError('timeout', `opencode run was aborted${reason}`, {
    ...details,
    aborted: true
  })
}

export function unknownSessionFailure(
  sessionId: string,
  details?: FailureDetails
): OpencodeRunError {
  return new OpencodeRunError('unknown-session', `opencode has no session ${sessionId}`, details)
}

export function spawnFailure(binary: string, error: NodeJS.ErrnoException): OpencodeRunError {
  const reason =
    error.code === 'ENOENT'
      ? 'not found'
      : error.code === 'EACCES'
        ? 'not executable'
        : error.message
  return new OpencodeRunError('binary-missing', `cannot run opencode (${binary}): ${reason}`, {
    cause: error
  })
}

/** `what` (e.g. `opencode import`) with how it ended and the last line it wrote to stderr. */
export function exitMessage(what: string, exit: ProcessExit): string {
  const how =
    exit.exitSignal !== null
      ? `was killed by ${exit.exitSignal}`
      : `exited with code ${exit.exitCode}`
  const detail = lastLine(exit.stderr)
  return `${what} ${how}${detail ? `: ${detail}` : ''}`
}

export function exitFailure(what: string, exit: ProcessExit): OpencodeRunError {
  return new OpencodeRunError('opencode-failed', exitMessage(what, exit), {
    exitCode: exit.exitCode,
    exitSignal: exit.exitSignal,
    stderr: exit.stderr
  })
}

/** The failure a turn's error events mean: the model provider's (first such), else opencode's. */
export function errorEventFailure(
  errors: string[],
  errorNames: string[],
  details: FailureDetails
): OpencodeRunError | undefined {
  if (!errors.length) return undefined
  const index = errorNames.findIndex(isProviderError)
  if (index >= 0) {
    return new OpencodeRunError('provider-error', `model provider error: ${errors[index]}`, details)
  }
  return new OpencodeRunError('opencode-failed', `opencode failed: ${errors[0]}`, details)
}

/** A turn that ended on a refused permission without a word of reply is a failure. */
export function rejectionFailure(
  result: RunResult,
  details: FailureDetails
): OpencodeRunError | undefined {
  if (result.text || !result.permissionRejections.length) return undefined
  return new OpencodeRunError(
    'permission-rejected',
    `opencode stopped on a rejected permission: ${result.permissionRejections[0]}`,
    details
  )
}
