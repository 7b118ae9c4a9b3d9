/**
 * Runs the real opencode CLI: `run --format json`, `export`, `import`, `session delete`.
 *
 * A session is only ever run in the directory it records (see homeSession); importSession makes
 * the session record the cwd it is imported at.
 *
 * Every spawn: the given cwd (also as `PWD`: opencode prefers `$PWD` over its real working
 * directory) and env (plus `OPENCODE_CONFIG_CONTENT`, see config.ts), stdin closed
 * (`opencode run` reads stdin to the end when it is not a TTY), its own process group. A run that
 * times out or is aborted gets SIGTERM, then SIGKILL after a grace period, sent to its group and to
 * the groups of everything it started (see process.ts).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { KugetsuError, type ErrorCode } from '../errors.js'
import { buildOpencodeConfigContent } from './config.js'
import { isProviderError, lastLine, parseRunOutput, runResultOf, stripAnsi } from './events.js'
import { localLauncher, type Launcher } from './launcher.js'
import { parseExport } from './replay.js'
import type { OpencodeDriver, RunRequest, RunResult } from './types.js'

export interface OpencodeDriverOptions {
  /** Path of the opencode binary (see resolveOpencodeBinary). */
  binary: string
  /** Environment of every spawn (default process.env). */
  env?: NodeJS.ProcessEnv
  /**
   * `OPENCODE_CONFIG_CONTENT` for every spawn. Default: kugetsu's safety config
   * (buildOpencodeConfigContent) over the env's own `OPENCODE_CONFIG_CONTENT`, if any.
   */
  configContent?: string
  /** Timeout of a run without `timeoutMs` (default 30 minutes). */
  defaultTimeoutMs?: number
  /** Timeout of export, import and delete (default 2 minutes). */
  commandTimeoutMs?: number
  /** Between SIGTERM and SIGKILL (default 5 s; opencode 1.18 exits ~2 s after SIGTERM). */
  killGraceMs?: number
  /** Where import writes its temporary file (default os.tmpdir()); opencode must be able to read it. */
  tempDir?: string
  /** How opencode is started and stopped (default: as this process's user). */
  launcher?: Launcher
}

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

interface SpawnResult {
  exitCode: number | null
  exitSignal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
  /** 'timeout' or 'abort' when kugetsu killed it. */
  killed?: 'timeout' | 'abort'
  abortReason?: unknown
  spawnError?: NodeJS.ErrnoException
}

const MAX_STDERR = 64 * 1024
const SESSION_NOT_FOUND = /session not found/i
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

export function checkSessionId(sessionId: string): void {
  if (!SESSION_ID.test(sessionId)) {
    throw new KugetsuError(
      'invalid-input',
      `not an opencode session id: ${JSON.stringify(sessionId)}`
    )
  }
}

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

/**
 * Refuses a request no driver can run: an empty message, a NUL in it (opencode reads it as text),
 * a session id that is not one, a fork without the session to fork.
 */
export function checkRunRequest(request: RunRequest): void {
  if (!request.message.trim()) {
    throw new KugetsuError('invalid-input', 'the message for opencode is empty')
  }
  if (request.message.includes('\0')) {
    throw new KugetsuError('invalid-input', 'the message for opencode contains a NUL character')
  }
  if (request.sessionId !== undefined) checkSessionId(request.sessionId)
  if (request.fork && !request.sessionId) {
    throw new KugetsuError('invalid-input', 'forking needs the session id to fork')
  }
}

type FailureDetails = ConstructorParameters<typeof OpencodeRunError>[2]

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

export function describeSignal(signal: AbortSignal): string {
  const reason: unknown = signal.reason
  if (reason instanceof Error && reason.name !== 'AbortError') return `: ${reason.message}`
  if (typeof reason === 'string' && reason) return `: ${reason}`
  return ''
}

export function createOpencodeDriver(options: OpencodeDriverOptions): Required<OpencodeDriver> {
  const baseEnv = options.env ?? process.env
  const configContent =
    options.configContent ??
    buildOpencodeConfigContent({ inherited: baseEnv.OPENCODE_CONFIG_CONTENT })
  const env: NodeJS.ProcessEnv = { ...baseEnv, OPENCODE_CONFIG_CONTENT: configContent }
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 30 * 60_000
  const commandTimeoutMs = options.commandTimeoutMs ?? 120_000
  const killGraceMs = options.killGraceMs ?? 5_000
  /** The directory opencode records for sessions this driver created, imported or exported. */
  const directories = new Map<string, string>()

  const launcher = options.launcher ?? localLauncher
  /** Stops the commands still running (close): each resolves once its process tree is gone. */
  const running = new Set<() => Promise<void>>()

  function spawnOpencode(
    args: string[],
    cwd: string,
    control: {
      timeoutMs: number
      signal?: AbortSignal
      onSpawn?: (pid: number) => void
      /** Written to stdin, which is then closed (opencode waits for a piped stdin to end). */
      input?: string
    }
  ): Promise<SpawnResult> {
    return new Promise((resolve) => {
      const started = Date.now()
      const stdout: Buffer[] = []
      let stderr = ''
      let killed: SpawnResult['killed']
      let stopping: Promise<void> | undefined
      let finishing = false
      let settled = false

      const child = launcher.spawn(options.binary, args, {
        cwd,
        // opencode takes its directory from $PWD when set, not from its actual cwd
        env: { ...env, PWD: path.resolve(cwd) },
        stdio: ['pipe', 'pipe', 'pipe']
      })
      const exited = new Promise<void>((done) => child.once('close', () => done()))
      // Ended at once (empty when there is no input): opencode waits for a piped stdin to end.
      // An opencode that exits without reading it (a bad flag) is reported by its exit, not here.
      child.stdin?.on('error', () => undefined)
      child.stdin?.end(control.input ?? '')

      const terminate = (why: 'timeout' | 'abort'): Promise<void> => {
        if (settled || child.pid === undefined) return Promise.resolve()
        killed ??= why
        stopping ??= launcher.stopTree(child.pid, exited, killGraceMs)
        return stopping
      }
      const onAbort = () => void terminate('abort')
      const stop = () => terminate('abort')
      const timer = setTimeout(() => void terminate('timeout'), control.timeoutMs)

      const finish = async (result: Omit<SpawnResult, 'stdout' | 'stderr' | 'durationMs'>) => {
        if (finishing) return
        finishing = true
        clearTimeout(timer)
        control.signal?.removeEventListener('abort', onAbort)
        running.delete(stop)
        // opencode is gone; whatever it started and left behind goes before the result is known
        await stopping
        settled = true
        resolve({
          ...result,
          killed,
          abortReason: killed === 'abort' ? control.signal?.reason : undefined,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: stripAnsi(stderr),
          durationMs: Date.now() - started
        })
      }

      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk
        if (stderr.length > 2 * MAX_STDERR) stderr = stderr.slice(-MAX_STDERR)
      })
      child.on('error', (error) => {
        if (child.pid === undefined) {
          void finish({ exitCode: null, exitSignal: null, spawnError: error })
        }
      })
      child.on('close', (code, signal) => void finish({ exitCode: code, exitSignal: signal }))

      if (child.pid !== undefined) {
        running.add(stop)
        control.onSpawn?.(child.pid)
        if (control.signal?.aborted) void terminate('abort')
        else control.signal?.addEventListener('abort', onAbort, { once: true })
      }
    })
  }

  /** Stops every command still running, with everything it started. */
  async function close(): Promise<void> {
    await Promise.all([...running].map((stop) => stop()))
  }

  function spawnFailure(error: NodeJS.ErrnoException): OpencodeRunError {
    const reason =
      error.code === 'ENOENT'
        ? 'not found'
        : error.code === 'EACCES'
          ? 'not executable'
          : error.message
    return new OpencodeRunError(
      'binary-missing',
      `cannot run opencode (${options.binary}): ${reason}`,
      { cause: error }
    )
  }

  function exitMessage(what: string, output: SpawnResult): string {
    const how =
      output.exitSignal !== null
        ? `was killed by ${output.exitSignal}`
        : `exited with code ${output.exitCode}`
    const detail = lastLine(output.stderr)
    return `${what} ${how}${detail ? `: ${detail}` : ''}`
  }

  function exitFailure(what: string, output: SpawnResult): OpencodeRunError {
    return new OpencodeRunError('opencode-failed', exitMessage(what, output), {
      exitCode: output.exitCode,
      exitSignal: output.exitSignal,
      stderr: output.stderr
    })
  }

  async function run(request: RunRequest): Promise<RunResult> {
    checkRunRequest(request)
    const timeoutMs = request.timeoutMs ?? defaultTimeoutMs
    if (request.signal?.aborted) {
      throw new OpencodeRunError(
        'timeout',
        `opencode run was aborted${describeSignal(request.signal)}`,
        {
          aborted: true,
          cause: request.signal.reason
        }
      )
    }

    if (request.sessionId) await homeSession(request.sessionId, request.cwd)

    const output = await spawnOpencode(runArgs(request), request.cwd, {
      timeoutMs,
      signal: request.signal,
      onSpawn: request.onSpawn,
      input: request.message
    })
    if (output.spawnError) throw spawnFailure(output.spawnError)

    const parsed = parseRunOutput(output.stdout)
    // opencode prints nothing before the model answers; a continued session is known anyway
    const sessionId =
      parsed.sessionId || (request.sessionId && !request.fork ? request.sessionId : '')
    const result = runResultOf(parsed, sessionId, output.durationMs)
    const details = {
      result,
      exitCode: output.exitCode,
      exitSignal: output.exitSignal,
      stderr: output.stderr
    }

    if (output.killed === 'timeout') {
      throw new OpencodeRunError('timeout', `opencode run timed out after ${timeoutMs} ms`, details)
    }
    if (output.killed === 'abort') {
      const reason = request.signal ? describeSignal(request.signal) : ''
      throw new OpencodeRunError('timeout', `opencode run was aborted${reason}`, {
        ...details,
        aborted: true,
        cause: output.abortReason
      })
    }
    if (
      output.exitCode !== 0 &&
      request.sessionId &&
      parsed.events.length === 0 &&
      SESSION_NOT_FOUND.test(output.stderr)
    ) {
      throw new OpencodeRunError(
        'unknown-session',
        `opencode has no session ${request.sessionId}`,
        details
      )
    }
    if (output.exitCode !== 0) {
      throw (
        errorEventFailure(parsed.errors, parsed.errorNames, details) ??
        new OpencodeRunError('opencode-failed', exitMessage('opencode run', output), details)
      )
    }
    if (!parsed.sessionId) {
      const detail = lastLine(output.stderr)
      throw new OpencodeRunError(
        'opencode-failed',
        `opencode run reported no session${detail ? `: ${detail}` : ''}`,
        details
      )
    }
    const rejected = rejectionFailure(result, details)
    if (rejected) throw rejected
    // a new session, or a fork of a session homed here, records cwd as its directory
    if (!request.sessionId || request.fork)
      directories.set(result.sessionId, path.resolve(request.cwd))
    return result
  }

  async function command(args: string[], cwd: string, what: string): Promise<SpawnResult> {
    const output = await spawnOpencode(args, cwd, { timeoutMs: commandTimeoutMs })
    if (output.spawnError) throw spawnFailure(output.spawnError)
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
        throw new OpencodeRunError('unknown-session', `opencode has no session ${sessionId}`, {
          exitCode: output.exitCode,
          stderr: output.stderr
        })
      }
      throw exitFailure('opencode export', output)
    }
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
    if (recorded === null) {
      throw new OpencodeRunError('unknown-session', `opencode has no session ${sessionId}`)
    }
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

  return { run, exportSession, importSession, deleteSession, close }
}
