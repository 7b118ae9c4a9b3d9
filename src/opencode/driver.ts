/**
 * The CLI driver: each session operation is one opencode command (`run --format json`, `export`,
 * `import`, `session delete`, `db`), run by cli-process.ts.
 *
 * A session is only ever run in the directory it records (see homeSession); importSession makes
 * the session record the cwd it is imported at.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createCommandRunner, type SpawnResult } from './cli-process.js'
import { driverSettings, type OpencodeDriverOptions } from './driver-options.js'
import {
  lastLine,
  parseRunOutput,
  progressLineReader,
  runResultOf,
  type ParsedRun
} from './events.js'
import { parseExport } from './replay.js'
import {
  OpencodeRunError,
  abortedRun,
  errorEventFailure,
  exitFailure,
  exitMessage,
  rejectionFailure,
  spawnFailure,
  timedOutRun,
  unknownSessionFailure
} from './run-errors.js'
import { checkRunRequest, checkSessionId } from './run-request.js'
import type { OpencodeDriver, RunRequest, RunResult } from './types.js'

export type { OpencodeDriverOptions } from './driver-options.js'
export { OpencodeRunError } from './run-errors.js'

const SESSION_NOT_FOUND = /session not found/i

/**
 * The arguments of `opencode run`. The message goes on stdin, not in argv: opencode reads a piped
 * stdin as the whole message when no message argument is given, exactly as written. As arguments
 * it would be mangled: one containing a space is wrapped in quotes, and one that looks like a
 * number (`fix issue 42`) is parsed as a number, which crashes opencode 1.18.
 */
export function runArgs(request: RunRequest): string[] {
  const args = ['run', '--format', 'json']
  if (request.sessionId) args.push(`--session=${request.sessionId}`)
  if (request.fork) args.push('--fork')
  if (request.model) args.push(`--model=${request.model}`)
  if (request.agent) args.push(`--agent=${request.agent}`)
  if (request.title) args.push(`--title=${request.title}`)
  return args
}

/** Why an `opencode run` that ended as `output` failed; undefined when it did not. */
function runFailure(
  request: RunRequest,
  timeoutMs: number,
  output: SpawnResult,
  parsed: ParsedRun,
  result: RunResult
): OpencodeRunError | undefined {
  const details = {
    result,
    exitCode: output.exitCode,
    exitSignal: output.exitSignal,
    stderr: output.stderr
  }
  if (output.killed === 'timeout') return timedOutRun(timeoutMs, details)
  if (output.killed === 'abort') {
    return abortedRun(request.signal, { ...details, cause: output.abortReason })
  }
  if (
    output.exitCode !== 0 &&
    request.sessionId &&
    parsed.events.length === 0 &&
    SESSION_NOT_FOUND.test(output.stderr)
  ) {
    return unknownSessionFailure(request.sessionId, details)
  }
  if (output.exitCode !== 0) {
    return (
      errorEventFailure(parsed.errors, parsed.errorNames, details) ??
      new OpencodeRunError('opencode-failed', exitMessage('opencode run', output), details)
    )
  }
  if (!parsed.sessionId) {
    const detail = lastLine(output.stderr)
    return new OpencodeRunError(
      'opencode-failed',
      `opencode run reported no session${detail ? `: ${detail}` : ''}`,
      details
    )
  }
  return rejectionFailure(result, details)
}

/** The JSON `opencode export` printed, and the directory it records; checked to be `sessionId`. */
function exportedSession(
  sessionId: string,
  output: SpawnResult
): { text: string; directory: unknown } {
  // The JSON starts at the first line that opens an object; anything before it is chatter.
  const start = output.stdout.search(/^\{/m)
  const text = start >= 0 ? output.stdout.slice(start).trim() : ''
  let id: unknown
  let directory: unknown
  try {
    const info = (JSON.parse(text) as { info?: { id?: unknown; directory?: unknown } }).info
    id = info?.id
    directory = info?.directory
  } catch {
    throw new OpencodeRunError(
      'opencode-failed',
      `opencode export printed no JSON for ${sessionId}`,
      {
        exitCode: output.exitCode,
        stderr: output.stderr
      }
    )
  }
  if (id !== sessionId) {
    throw new OpencodeRunError(
      'opencode-failed',
      `opencode export of ${sessionId} printed session ${String(id)}`,
      { exitCode: output.exitCode, stderr: output.stderr }
    )
  }
  return { text, directory }
}

export function createOpencodeDriver(options: OpencodeDriverOptions): Required<OpencodeDriver> {
  const settings = driverSettings(options)
  const { defaultTimeoutMs, commandTimeoutMs } = settings
  const processes = createCommandRunner(settings)
  /** The directory opencode records for sessions this driver created, imported or exported. */
  const directories = new Map<string, string>()

  async function run(request: RunRequest): Promise<RunResult> {
    checkRunRequest(request)
    const timeoutMs = request.timeoutMs ?? defaultTimeoutMs
    if (request.signal?.aborted) {
      throw abortedRun(request.signal, { cause: request.signal.reason })
    }

    if (request.sessionId) await homeSession(request.sessionId, request.cwd)

    const output = await processes.spawnOpencode(runArgs(request), request.cwd, {
      timeoutMs,
      signal: request.signal,
      onSpawn: request.onSpawn,
      onStdout: request.onProgress ? progressLineReader(request.onProgress) : undefined,
      input: request.message
    })
    if (output.spawnError) throw spawnFailure(settings.binary, output.spawnError)

    const parsed = parseRunOutput(output.stdout)
    // opencode prints nothing before the model answers; a continued session is known anyway
    const sessionId =
      parsed.sessionId || (request.sessionId && !request.fork ? request.sessionId : '')
    const result = runResultOf(parsed, sessionId, output.durationMs)
    const failure = runFailure(request, timeoutMs, output, parsed, result)
    if (failure) throw failure
    // a new session, or a fork of a session homed here, records cwd as its directory
    if (!request.sessionId || request.fork)
      directories.set(result.sessionId, path.resolve(request.cwd))
    return result
  }

  /** A command other than run: its own timeout, and no output when it could not run. */
  async function command(args: string[], cwd: string, what: string): Promise<SpawnResult> {
    const output = await processes.spawnOpencode(args, cwd, { timeoutMs: commandTimeoutMs })
    if (output.spawnError) throw spawnFailure(settings.binary, output.spawnError)
    if (output.killed) {
      throw new OpencodeRunError('timeout', `${what} timed out after ${commandTimeoutMs} ms`, {
        stderr: output.stderr
      })
    }
    return output
  }

  async function exportSession(sessionId: string, cwd: string): Promise<string> {
    checkSessionId(sessionId)
    const output = await command(['export', sessionId], cwd, 'opencode export')
    if (output.exitCode !== 0) {
      if (SESSION_NOT_FOUND.test(output.stderr)) {
        throw unknownSessionFailure(sessionId, {
          exitCode: output.exitCode,
          stderr: output.stderr
        })
      }
      throw exitFailure('opencode export', output)
    }
    const { text, directory } = exportedSession(sessionId, output)
    if (typeof directory === 'string') directories.set(sessionId, directory)
    return text
  }

  async function importSession(sessionExport: string, cwd: string): Promise<void> {
    const parsed = parseExport(sessionExport)
    const id = parsed.info.id
    // The session becomes this checkout's: opencode forks a session in the directory it records
    // (and a fork run from any other directory hangs), so it must be the cwd used from now on.
    const directory = path.resolve(cwd)
    const text =
      parsed.info.directory === directory
        ? sessionExport
        : JSON.stringify({ ...parsed, info: { ...parsed.info, directory } })
    const dir = await mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'kugetsu-import-'))
    try {
      const file = path.join(dir, 'session.json')
      // Group bits set: an ACL entry (a contained opencode's, see src/sandbox/) counts only as far
      // as they allow.
      await chmod(dir, 0o750)
      await writeFile(file, text, { mode: 0o640 })
      const output = await command(['import', file], cwd, 'opencode import')
      if (output.exitCode !== 0) throw exitFailure('opencode import', output)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    directories.set(id, directory)
  }

  /**
   * The directory opencode records for a session, read from its database (`opencode db`, ~1 s):
   * null when there is no such session, undefined when the query did not work.
   */
  async function recordedDirectory(
    sessionId: string,
    cwd: string
  ): Promise<string | null | undefined> {
    // sessionId passed checkSessionId: letters, digits, `_`, `.` and `-` only
    const query = `select directory from session where id = '${sessionId}'`
    const output = await command(['db', '--format', 'json', query], cwd, 'opencode db').catch(
      () => undefined
    )
    if (!output || output.exitCode !== 0) return undefined
    try {
      const rows = JSON.parse(output.stdout.slice(Math.max(0, output.stdout.indexOf('[')))) as {
        directory?: unknown
      }[]
      if (!Array.isArray(rows)) return undefined
      if (rows.length === 0) return null
      return typeof rows[0].directory === 'string' ? rows[0].directory : undefined
    } catch {
      return undefined
    }
  }

  /**
   * Makes sure the session records `cwd` as its directory before a run in `cwd` continues or forks
   * it. opencode 1.18 handles part of a turn in the directory the session records and part in its
   * cwd: a fork run from another directory never sees its turn end, and a continued run never
   * sees a permission request (nobody rejects it): both hang forever. Free when this driver
   * created, imported or exported the session; otherwise a database query, plus an export and an
   * import when the session has to move.
   */
  async function homeSession(sessionId: string, cwd: string): Promise<void> {
    const directory = path.resolve(cwd)
    if (directories.get(sessionId) === directory) return
    const recorded = await recordedDirectory(sessionId, cwd)
    if (recorded === null) throw unknownSessionFailure(sessionId)
    if (recorded === directory) {
      directories.set(sessionId, directory)
      return
    }
    const exported = await exportSession(sessionId, cwd)
    if (directories.get(sessionId) !== directory) await importSession(exported, cwd)
  }

  async function deleteSession(sessionId: string, cwd: string): Promise<void> {
    checkSessionId(sessionId)
    const output = await command(['session', 'delete', sessionId], cwd, 'opencode session delete')
    if (output.exitCode === 0 || SESSION_NOT_FOUND.test(output.stderr)) return
    throw exitFailure('opencode session delete', output)
  }

  return { run, exportSession, importSession, deleteSession, close: processes.close }
}
