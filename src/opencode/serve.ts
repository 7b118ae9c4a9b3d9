/**
 * Drives opencode through one `opencode serve` process for a whole action run, instead of one
 * opencode process per command: create, fork and prompt sessions and read them back (the export)
 * over its HTTP API, and import them as sync events (replay.ts). A run then starts opencode once
 * instead of three or four times. See docs/perf-notes.md for the measurements. The process is
 * serve-process.ts's, the HTTP client serve-http.ts's; the session operations are here.
 *
 * What `opencode run` does for itself is done here:
 * - permission requests and questions nobody can answer are rejected as they come (from `/event`);
 * - a turn that exceeds its timeout, or is aborted, stops the server and everything it started,
 *   exactly as the CLI driver kills `opencode run`;
 * - the turn's messages are summarised by the rules of `--format json` (eventsFromMessages).
 *
 * The server listens on 127.0.0.1 only and requires a random password (HTTP basic auth), so no
 * other local user and no tool of the agent that cannot set headers (webfetch) can use it. The
 * agent's bash tool inherits opencode's environment, password included; an agent allowed to run
 * commands can already do anything the runner's user can, so that adds nothing.
 *
 * When the server refuses the replayed events, the import falls back to the CLI (`opencode import`,
 * once the server is up: one started alongside it on a fresh database can be lost, seen with
 * 1.18.33). When serve cannot start at all, every call falls back to the CLI driver.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { watchCost } from './cost-watch.js'
import { createOpencodeDriver } from './driver.js'
import { driverSettings, type OpencodeDriverOptions } from './driver-options.js'
import {
  emptyRunResult,
  eventsFromMessages,
  runResultOf,
  summarizeEvents,
  toolProgressOf
} from './events.js'
import { parseExport, replayEvents, type ExportedSession } from './replay.js'
import {
  OpencodeRunError,
  abortedRun,
  errorEventFailure,
  rejectionFailure,
  timedOutRun,
  unknownSessionFailure
} from './run-errors.js'
import { checkRunRequest, checkSessionId } from './run-request.js'
import {
  ServeHttpError,
  createServeClient,
  type CallControl,
  type ServeEvent
} from './serve-http.js'
import { createServeProcess, type ServeMode } from './serve-process.js'
import type { OpencodeDriver, RunRequest, RunResult } from './types.js'

export interface ServeDriverOptions extends OpencodeDriverOptions {
  /** The directory serve starts in (the checkout; every request also names its directory). */
  cwd: string
  /** How long serve may take to start listening (default 60 s). */
  startTimeoutMs?: number
  /** Told why, once, when serve could not start and the CLI driver takes over. */
  onFallback?: (reason: string) => void
}

export interface ServeDriver extends Required<OpencodeDriver> {
  /** Starts the server in the background (again: nothing); every other call waits for it. */
  start(): void
  /** 'serve' once the server listens, 'cli' when it could not start. */
  mode(): Promise<'serve' | 'cli'>
  /**
   * Stops the server and everything it started. `graceMs`: how long they have after SIGTERM
   * before SIGKILL (the driver's killGraceMs by default; 0 once nothing more is read of it).
   */
  close(options?: { graceMs?: number }): Promise<void>
  /** Where the server listens, while it runs. */
  url(): string | undefined
  /** Values to keep out of logs and saved state: the server's password. */
  secrets(): string[]
}

interface Message {
  info: { id: string; role?: string } & Record<string, unknown>
  parts: unknown[]
}

/** How far a turn got before it ended or was stopped. */
interface TurnProgress {
  /** The session the turn runs in ('' until it is known). */
  sessionId: string
  /** The session's messages from before the turn. */
  seen: Set<string>
  /** Set once the server answered the prompt: the turn ended. */
  answered: boolean
}

/** Requested in the background once serve listens: they load what a first prompt needs. */
const WARM_UP = ['/config', '/agent', '/provider']

const sessionRoute = (sessionId: string, rest = '') =>
  `/session/${encodeURIComponent(sessionId)}${rest}`

/** A 404 for a session is its absence: unknown-session. */
function unknownSession(sessionId: string, error: unknown): never {
  if (error instanceof ServeHttpError && error.status === 404) {
    throw unknownSessionFailure(sessionId, { cause: error })
  }
  throw error
}

/** The body of the prompt that runs the turn. */
function promptBody(request: RunRequest): Record<string, unknown> {
  const slash = request.model?.indexOf('/') ?? -1
  return {
    parts: [{ type: 'text', text: request.message }],
    ...(request.model && slash > 0
      ? {
          model: {
            providerID: request.model.slice(0, slash),
            modelID: request.model.slice(slash + 1)
          }
        }
      : {}),
    ...(request.agent ? { agent: request.agent } : {})
  }
}

/**
 * The turn's own signal, aborted at its timeout, by the request's signal, or by `halt('budget')`
 * (its cost ceiling), whichever is first.
 */
function limitTurn(timeoutMs: number, signal: AbortSignal | undefined) {
  const turn = new AbortController()
  let stoppedBy: StopReason | undefined
  const halt = (why: StopReason) => {
    if (stoppedBy) return
    stoppedBy = why
    turn.abort()
  }
  const timer = setTimeout(() => halt('timeout'), timeoutMs)
  const onAbort = () => halt('abort')
  signal?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: turn.signal,
    halt,
    stoppedBy: () => stoppedBy,
    /** The turn is over: what it still waits for is cancelled. */
    release() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      turn.abort()
    }
  }
}

type StopReason = 'timeout' | 'abort' | 'budget'

export function createServeDriver(options: ServeDriverOptions): ServeDriver {
  const cli = createOpencodeDriver(options)
  const settings = driverSettings(options)
  const { defaultTimeoutMs, commandTimeoutMs } = settings
  const password = randomBytes(24).toString('base64url')
  const server = createServeProcess({
    settings,
    cwd: options.cwd,
    password,
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    onFallback: options.onFallback,
    onListening: warmUp
  })
  const client = createServeClient(server, password)
  const call = client.call
  /** The directory opencode records for sessions this driver created, imported or exported. */
  const directories = new Map<string, string>()

  function warmUp(): void {
    void (async () => {
      for (const route of WARM_UP) {
        await call('GET', route, { directory: options.cwd, timeoutMs: commandTimeoutMs }).catch(
          () => undefined
        )
      }
    })()
  }

  async function sessionExport(sessionId: string, directory: string): Promise<string> {
    const control = { directory, timeoutMs: commandTimeoutMs }
    const [info, messages] = await Promise.all([
      call<Record<string, unknown>>('GET', sessionRoute(sessionId), control),
      call<Message[]>('GET', sessionRoute(sessionId, '/message'), control)
    ]).catch((error: unknown) => unknownSession(sessionId, error))
    if (info?.id !== sessionId || !Array.isArray(messages)) {
      throw new OpencodeRunError(
        'opencode-failed',
        `opencode serve returned no session ${sessionId}`
      )
    }
    if (typeof info.directory === 'string') directories.set(sessionId, info.directory)
    return JSON.stringify({ info, messages }, null, 2)
  }

  /** Makes the session record `cwd` before it is continued or forked there (see driver.ts). */
  async function homeSession(sessionId: string, cwd: string): Promise<void> {
    const directory = path.resolve(cwd)
    if (directories.get(sessionId) === directory) return
    const exported = await sessionExport(sessionId, cwd)
    if (directories.get(sessionId) !== directory) await importSession(exported, cwd)
  }

  /** What of the event stream reaches `request.onProgress`: this session's tool calls. */
  function progressWatcher(
    request: RunRequest,
    sessionId: string
  ): ((event: ServeEvent) => void) | undefined {
    const { onProgress } = request
    if (!onProgress) return undefined
    return (event) => {
      if (event.type !== 'message.part.updated') return
      const part = event.properties?.part as { sessionID?: unknown } | undefined
      if (part?.sessionID !== sessionId) return
      const step = toolProgressOf(part)
      if (!step) return
      try {
        onProgress(step)
      } catch {
        // progress is best effort
      }
    }
  }

  /**
   * Rejects every permission request and question while a turn runs: nobody can answer them.
   * Every event also goes to `watch` (the cost watch, live progress).
   */
  async function refuseAsks(
    directory: string,
    signal: AbortSignal,
    watch?: (event: unknown) => void
  ): Promise<void> {
    const control = { directory, signal, timeoutMs: commandTimeoutMs }
    const refuse = (type: unknown, id: unknown) => {
      if (typeof id !== 'string') return
      const request =
        type === 'permission.asked'
          ? call('POST', `/permission/${encodeURIComponent(id)}/reply`, {
              ...control,
              body: { reply: 'reject' }
            })
          : type === 'question.asked'
            ? call('POST', `/question/${encodeURIComponent(id)}/reject`, control)
            : undefined
      request?.catch(() => undefined)
    }
    await client.subscribe(directory, signal, (event) => {
      refuse(event.type, event.properties?.id)
      watch?.(event)
    })
    // Whatever was asked before the subscription took effect
    const [permissions, questions] = await Promise.all([
      call<{ id?: unknown }[]>('GET', '/permission', control).catch(() => []),
      call<{ id?: unknown }[]>('GET', '/question', control).catch(() => [])
    ])
    for (const ask of permissions ?? []) refuse('permission.asked', ask.id)
    for (const ask of questions ?? []) refuse('question.asked', ask.id)
  }

  /** The session the turn runs in (progress.sessionId): the request's, a fork of it, or new. */
  async function openSession(
    request: RunRequest,
    control: CallControl,
    progress: TurnProgress
  ): Promise<void> {
    const { sessionId } = request
    if (sessionId) await homeSession(sessionId, request.cwd)
    if (sessionId && !request.fork) {
      progress.sessionId = sessionId
    } else if (sessionId) {
      const fork = await call<{ id: string }>('POST', sessionRoute(sessionId, '/fork'), {
        ...control,
        body: {}
      }).catch((error: unknown) => unknownSession(sessionId, error))
      progress.sessionId = fork.id
      if (request.title) {
        await call('PATCH', sessionRoute(fork.id), { ...control, body: { title: request.title } })
      }
    } else {
      const created = await call<{ id: string }>('POST', '/session', {
        ...control,
        body: request.title ? { title: request.title } : {}
      })
      progress.sessionId = created.id
    }
    checkSessionId(progress.sessionId)
  }

  /** Opens the turn's session and prompts it; resolves once the turn ended. */
  async function playTurn(
    request: RunRequest,
    control: CallControl & { signal: AbortSignal },
    timeoutMs: number,
    progress: TurnProgress,
    watch?: (event: unknown) => void
  ): Promise<void> {
    await openSession(request, control, progress)
    const { sessionId } = progress
    directories.set(sessionId, control.directory)
    const before = await call<Message[]>('GET', sessionRoute(sessionId, '/message'), control)
    progress.seen = new Set(before.map((message) => message.info.id))

    const shown = progressWatcher(request, sessionId)
    await refuseAsks(control.directory, control.signal, (event) => {
      watch?.(event)
      shown?.(event as ServeEvent)
    })
    await call('POST', sessionRoute(sessionId, '/message'), {
      ...control,
      timeoutMs: timeoutMs + 60_000,
      body: promptBody(request)
    }).catch((error: unknown) => unknownSession(sessionId, error))
    progress.answered = true
  }

  async function run(request: RunRequest): Promise<RunResult> {
    checkRunRequest(request)
    if ((await server.mode()) === 'cli') return cli.run(request)
    const timeoutMs = request.timeoutMs ?? defaultTimeoutMs
    if (request.signal?.aborted) {
      throw abortedRun(request.signal, { cause: request.signal.reason })
    }
    const began = Date.now()
    const pid = server.pid()
    if (pid !== undefined) request.onSpawn?.(pid)

    const turn = limitTurn(timeoutMs, request.signal)
    const control = {
      directory: path.resolve(request.cwd),
      signal: turn.signal,
      timeoutMs: commandTimeoutMs
    }
    const progress: TurnProgress = { sessionId: '', seen: new Set(), answered: false }
    const { maxCost } = request
    const costs =
      maxCost === undefined
        ? undefined
        : watchCost(
            maxCost,
            () => progress.sessionId,
            () => turn.halt('budget')
          )
    try {
      await playTurn(request, control, timeoutMs, progress, costs?.see)
    } catch (error) {
      if (!turn.stoppedBy()) throw error
    } finally {
      turn.release()
    }
    const stoppedBy = turn.stoppedBy()
    if (stoppedBy) throw await stoppedTurn(request, stoppedBy, timeoutMs, progress, began)
    if (!progress.answered)
      throw new OpencodeRunError('opencode-failed', 'opencode serve did not run the turn')

    const { result, errorNames } = await turnResult(progress.sessionId, progress.seen, began)
    const details = { result, stderr: server.stderr() }
    const failure =
      errorEventFailure(result.errors, errorNames, details) ?? rejectionFailure(result, details)
    if (failure) throw failure
    return result
  }

  /** Like a killed `opencode run`: the server goes, with every process the turn started. */
  async function stoppedTurn(
    request: RunRequest,
    stoppedBy: StopReason,
    timeoutMs: number,
    { sessionId, seen }: TurnProgress,
    began: number
  ): Promise<OpencodeRunError> {
    const partial = sessionId
      ? await turnResult(sessionId, seen, began).then(
          (turnDone) => turnDone.result,
          () => emptyRunResult(sessionId, Date.now() - began)
        )
      : undefined
    await server.stop()
    const details = { result: partial, stderr: server.stderr() }
    if (stoppedBy === 'timeout') return timedOutRun(timeoutMs, details)
    if (stoppedBy === 'budget') {
      const spent = partial?.cost ?? 0
      return new OpencodeRunError(
        'budget-exceeded',
        `the turn was stopped when its cost reached $${spent.toFixed(4)}, the rest of the issue's budget ($${(request.maxCost ?? 0).toFixed(4)})`,
        details
      )
    }
    return abortedRun(request.signal, { ...details, cause: request.signal?.reason })
  }

  /** What the turn produced: the session's messages that were not there before it. */
  async function turnResult(
    sessionId: string,
    seen: Set<string>,
    began: number
  ): Promise<{ result: RunResult; errorNames: string[] }> {
    const messages = await call<Message[]>('GET', sessionRoute(sessionId, '/message'), {
      directory: directories.get(sessionId) ?? options.cwd,
      timeoutMs: commandTimeoutMs
    })
    const parsed = summarizeEvents(
      eventsFromMessages(messages.filter((message) => !seen.has(message.info.id)))
    )
    return {
      result: runResultOf(parsed, sessionId, Date.now() - began),
      errorNames: parsed.errorNames
    }
  }

  async function exportSession(sessionId: string, cwd: string): Promise<string> {
    checkSessionId(sessionId)
    if ((await server.mode()) === 'cli') return cli.exportSession(sessionId, cwd)
    return sessionExport(sessionId, cwd)
  }

  /**
   * Writes the session into the server as sync events (see replay.ts). False when the server
   * refuses them, so that the CLI import is used instead.
   */
  async function replaySession(exported: ExportedSession, directory: string): Promise<boolean> {
    const control = { directory, timeoutMs: commandTimeoutMs }
    try {
      const project = await call<{ id?: unknown; worktree?: unknown }>(
        'GET',
        '/project/current',
        control
      )
      if (typeof project?.id !== 'string' || typeof project.worktree !== 'string') return false
      const location = { projectID: project.id, worktree: project.worktree, directory }
      await call('POST', '/sync/replay', {
        ...control,
        body: { directory, events: replayEvents(exported, location) }
      })
      // Whole, and in this checkout: otherwise the CLI import completes it
      const [info, messages] = await Promise.all([
        call<{ directory?: unknown }>('GET', sessionRoute(exported.info.id), control),
        call<Message[]>('GET', sessionRoute(exported.info.id, '/message'), control)
      ])
      return (
        info?.directory === directory &&
        Array.isArray(messages) &&
        messages.length === exported.messages.length
      )
    } catch (error) {
      if (error instanceof ServeHttpError) return false
      throw error
    }
  }

  async function importSession(text: string, cwd: string): Promise<void> {
    const exported = parseExport(text)
    const directory = path.resolve(cwd)
    // The CLI import runs only once the server is up (mode() settled): see the top of the file.
    if ((await server.mode()) === 'cli' || !(await replaySession(exported, directory))) {
      await cli.importSession(text, cwd)
    }
    directories.set(exported.info.id, directory)
  }

  async function deleteSession(sessionId: string, cwd: string): Promise<void> {
    checkSessionId(sessionId)
    if ((await server.mode()) === 'cli') return cli.deleteSession(sessionId, cwd)
    try {
      await call('DELETE', sessionRoute(sessionId), { directory: cwd, timeoutMs: commandTimeoutMs })
    } catch (error) {
      if (error instanceof ServeHttpError && error.status === 404) return
      throw error
    }
    directories.delete(sessionId)
  }

  async function close(options: { graceMs?: number } = {}): Promise<void> {
    await server.close(options)
    // after a fallback, per-command opencode may still run
    await cli.close()
  }

  const mode = (): Promise<ServeMode> => server.mode()
  const secrets = () => [password]
  return {
    run,
    exportSession,
    importSession,
    deleteSession,
    start: server.start,
    mode,
    close,
    url: server.url,
    secrets
  }
}
