/**
 * Drives opencode through one `opencode serve` process for a whole action run, instead of one
 * opencode process per command: create, fork and prompt sessions and read them back (the export)
 * over its HTTP API, and import them as sync events (replay.ts). A run then starts opencode once
 * instead of three or four times. See docs/perf-notes.md for the measurements.
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
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import path from 'node:path'
import { buildOpencodeConfigContent } from './config.js'
import { createOpencodeDriver } from './driver.js'
import type { OpencodeDriverOptions } from './driver-options.js'
import {
  emptyRunResult,
  eventsFromMessages,
  runResultOf,
  stripAnsi,
  summarizeEvents
} from './events.js'
import { localLauncher } from './launcher.js'
import { parseExport, replayEvents, type ExportedSession } from './replay.js'
import {
  OpencodeRunError,
  abortedRun,
  errorEventFailure,
  exitMessage,
  rejectionFailure,
  timedOutRun,
  unknownSessionFailure
} from './run-errors.js'
import { checkRunRequest, checkSessionId } from './run-request.js'
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
  /** Stops the server and everything it started. */
  close(): Promise<void>
  /** Where the server listens, while it runs. */
  url(): string | undefined
  /** Values to keep out of logs and saved state: the server's password. */
  secrets(): string[]
}

/** An HTTP answer other than 2xx. */
class ServeHttpError extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    message: string
  ) {
    super(message)
  }
}

interface Message {
  info: { id: string; role?: string } & Record<string, unknown>
  parts: unknown[]
}

const MAX_STDERR = 64 * 1024
const LISTENING = /listening on (http:\/\/[^\s]+)/
/** Requested in the background once serve listens: they load what a first prompt needs. */
const WARM_UP = ['/config', '/agent', '/provider']

/**
 * One HTTP request to the server, with node:http rather than fetch: fetch gives up on an answer
 * whose headers take more than 5 minutes, and the answer to a prompt comes when the turn ends.
 */
function exchange(
  method: string,
  url: URL,
  options: { headers: Record<string, string>; body?: string; signal: AbortSignal }
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method, headers: options.headers, signal: options.signal },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
        response.on('error', reject)
      }
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

/** A response left open: the server's event stream. */
function openStream(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers, signal }, resolve)
    request.on('error', reject)
    request.end()
  })
}

/**
 * A port nobody listens on now. opencode 1.18 takes `--port 0` to mean its default port 4096, so
 * two servers (two jobs on one self-hosted runner) would share it.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port'))
      )
    })
  })
}

export function createServeDriver(options: ServeDriverOptions): ServeDriver {
  const cli = createOpencodeDriver(options)
  const baseEnv = options.env ?? process.env
  const configContent =
    options.configContent ??
    buildOpencodeConfigContent({ inherited: baseEnv.OPENCODE_CONFIG_CONTENT })
  const password = randomBytes(24).toString('base64url')
  const authorization = `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}`
  const startTimeoutMs = options.startTimeoutMs ?? 60_000
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 30 * 60_000
  const commandTimeoutMs = options.commandTimeoutMs ?? 120_000
  const killGraceMs = options.killGraceMs ?? 5_000
  const directories = new Map<string, string>()
  const launcher = options.launcher ?? localLauncher

  let child: ChildProcess | undefined
  let started: Promise<'serve' | 'cli'> | undefined
  let baseUrl = ''
  let stderr = ''
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  let exited: Promise<void> = Promise.resolve()
  let stopping: Promise<void> | undefined
  /** Set by close: a server still starting is stopped, not waited for. */
  let closing = false

  function serverGone(): string {
    if (!exit) return 'opencode serve stopped answering'
    return exitMessage('opencode serve', { exitCode: exit.code, exitSignal: exit.signal, stderr })
  }

  async function launch(): Promise<'serve' | 'cli'> {
    const port = await freePort().catch(() => 0)
    if (closing) return 'cli'
    return new Promise((resolve) => {
      let output = ''
      let settled = false
      let listening = false
      const fallBack = (reason: string) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (!closing) options.onFallback?.(reason)
        void stop()
        resolve('cli')
      }
      exit = undefined
      stderr = ''
      const server = launcher.spawn(
        options.binary,
        ['serve', '--hostname', '127.0.0.1', '--port', String(port)],
        {
          cwd: options.cwd,
          env: {
            ...baseEnv,
            OPENCODE_CONFIG_CONTENT: configContent,
            OPENCODE_SERVER_PASSWORD: password,
            // opencode takes its directory from $PWD when set, not from its actual cwd
            PWD: path.resolve(options.cwd)
          },
          stdio: ['ignore', 'pipe', 'pipe']
        }
      )
      child = server
      exited = new Promise((done) => server.once('close', () => done()))
      const timer = setTimeout(
        () => fallBack(`opencode serve did not listen within ${startTimeoutMs} ms`),
        startTimeoutMs
      )
      const onOutput = (chunk: string) => {
        if (settled) return
        output = (output + chunk).slice(-MAX_STDERR)
        const match = LISTENING.exec(stripAnsi(output))
        if (!match) return
        settled = true
        listening = true
        clearTimeout(timer)
        baseUrl = match[1].replace(/\/$/, '')
        warmUp()
        resolve('serve')
      }
      server.stdout?.setEncoding('utf8').on('data', onOutput)
      server.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-MAX_STDERR)
        onOutput(chunk)
      })
      server.on('error', (error) => fallBack(`cannot run opencode serve: ${error.message}`))
      server.on('close', (code, signal) => {
        exit = { code, signal }
        // After a server that ran (a stopped turn, say), the next call starts another; the
        // database stays. One that never listened is not tried again: the CLI driver takes over.
        if (child === server) {
          child = undefined
          if (listening) started = undefined
        }
        fallBack(serverGone())
      })
    })
  }

  function start(): void {
    started ??= launch()
  }

  function mode(): Promise<'serve' | 'cli'> {
    start()
    return started as Promise<'serve' | 'cli'>
  }

  function warmUp(): void {
    void (async () => {
      for (const route of WARM_UP) {
        await call('GET', route, { directory: options.cwd, timeoutMs: commandTimeoutMs }).catch(
          () => undefined
        )
      }
    })()
  }

  /** Stops the server and every process it started (their groups: see process.ts). */
  async function stop(): Promise<void> {
    const server = child
    if (!server?.pid) return
    stopping ??= launcher
      .stopTree(server.pid, exited, killGraceMs)
      .finally(() => (stopping = undefined))
    return stopping
  }

  async function call<T>(
    method: string,
    route: string,
    control: { directory: string; body?: unknown; signal?: AbortSignal; timeoutMs: number }
  ): Promise<T> {
    const url = new URL(baseUrl + route)
    url.searchParams.set('directory', path.resolve(control.directory))
    const timeout = AbortSignal.timeout(control.timeoutMs)
    const signals = [timeout]
    if (control.signal) signals.push(control.signal)
    let response: { status: number; text: string }
    try {
      response = await exchange(method, url, {
        headers: {
          authorization,
          ...(control.body === undefined ? {} : { 'content-type': 'application/json' })
        },
        body: control.body === undefined ? undefined : JSON.stringify(control.body),
        signal: AbortSignal.any(signals)
      })
    } catch (error) {
      if (control.signal?.aborted) throw error
      if (timeout.aborted) {
        throw new OpencodeRunError(
          'timeout',
          `opencode serve did not answer ${method} ${route} within ${control.timeoutMs} ms`,
          { stderr, cause: error }
        )
      }
      await Promise.race([exited, new Promise((done) => setTimeout(done, 1_000).unref())])
      throw new OpencodeRunError('opencode-failed', serverGone(), {
        exitCode: exit?.code ?? null,
        exitSignal: exit?.signal ?? null,
        stderr,
        cause: error
      })
    }
    const { text } = response
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = text
    }
    if (response.status < 200 || response.status > 299) {
      const error = (body ?? {}) as { name?: unknown; data?: { message?: unknown } }
      const message =
        typeof error.data?.message === 'string' ? error.data.message : text.slice(0, 300)
      throw new ServeHttpError(
        response.status,
        typeof error.name === 'string' ? error.name : 'HttpError',
        `opencode serve: ${method} ${route}: HTTP ${response.status}${message ? `: ${message}` : ''}`
      )
    }
    return body as T
  }

  const sessionRoute = (sessionId: string, rest = '') =>
    `/session/${encodeURIComponent(sessionId)}${rest}`

  function unknownSession(sessionId: string, error: unknown): never {
    if (error instanceof ServeHttpError && error.status === 404) {
      throw unknownSessionFailure(sessionId, { cause: error })
    }
    throw error
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

  /** Rejects every permission request and question while a turn runs: nobody can answer them. */
  async function refuseAsks(directory: string, signal: AbortSignal): Promise<void> {
    const url = new URL(`${baseUrl}/event`)
    url.searchParams.set('directory', path.resolve(directory))
    const response = await openStream(url, { authorization }, signal)
    if (response.statusCode !== 200) {
      response.resume()
      throw new OpencodeRunError(
        'opencode-failed',
        `opencode serve: /event: HTTP ${response.statusCode}`
      )
    }
    response.setEncoding('utf8')
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
    let connected = false
    const ready = new Promise<void>((resolve, reject) => {
      void (async () => {
        let buffer = ''
        try {
          for await (const value of response as AsyncIterable<string>) {
            buffer += value
            let end: number
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end)
              buffer = buffer.slice(end + 2)
              const data = block
                .split('\n')
                .filter((line) => line.startsWith('data:'))
                .map((line) => line.slice(5).trim())
                .join('\n')
              if (!data) continue
              let event: { type?: unknown; properties?: { id?: unknown } }
              try {
                event = JSON.parse(data)
              } catch {
                continue
              }
              if (!connected) {
                connected = true
                resolve()
              }
              refuse(event.type, event.properties?.id)
            }
          }
        } catch (error) {
          if (!connected) reject(error)
        }
        if (!connected) reject(new Error('the event stream ended'))
      })()
    })
    await ready
    // Whatever was asked before the subscription took effect
    const [permissions, questions] = await Promise.all([
      call<{ id?: unknown }[]>('GET', '/permission', control).catch(() => []),
      call<{ id?: unknown }[]>('GET', '/question', control).catch(() => [])
    ])
    for (const ask of permissions ?? []) refuse('permission.asked', ask.id)
    for (const ask of questions ?? []) refuse('question.asked', ask.id)
  }

  async function run(request: RunRequest): Promise<RunResult> {
    checkRunRequest(request)
    if ((await mode()) === 'cli') return cli.run(request)
    const timeoutMs = request.timeoutMs ?? defaultTimeoutMs
    if (request.signal?.aborted) {
      throw abortedRun(request.signal, { cause: request.signal.reason })
    }
    const began = Date.now()
    if (child?.pid !== undefined) request.onSpawn?.(child.pid)

    const turn = new AbortController()
    let stoppedBy: 'timeout' | 'abort' | undefined
    const halt = (why: 'timeout' | 'abort') => {
      if (stoppedBy) return
      stoppedBy = why
      turn.abort()
    }
    const timer = setTimeout(() => halt('timeout'), timeoutMs)
    const onAbort = () => halt('abort')
    request.signal?.addEventListener('abort', onAbort, { once: true })

    const directory = path.resolve(request.cwd)
    const control = { directory, signal: turn.signal, timeoutMs: commandTimeoutMs }
    let sessionId = ''
    let seen = new Set<string>()
    let answered = false
    try {
      if (request.sessionId) {
        await homeSession(request.sessionId, request.cwd)
      }
      if (request.sessionId && !request.fork) {
        sessionId = request.sessionId
      } else if (request.sessionId) {
        const fork = await call<{ id: string }>('POST', sessionRoute(request.sessionId, '/fork'), {
          ...control,
          body: {}
        }).catch((error: unknown) => unknownSession(request.sessionId as string, error))
        sessionId = fork.id
        if (request.title) {
          await call('PATCH', sessionRoute(sessionId), {
            ...control,
            body: { title: request.title }
          })
        }
      } else {
        const created = await call<{ id: string }>('POST', '/session', {
          ...control,
          body: request.title ? { title: request.title } : {}
        })
        sessionId = created.id
      }
      checkSessionId(sessionId)
      directories.set(sessionId, directory)
      const before = await call<Message[]>('GET', sessionRoute(sessionId, '/message'), control)
      seen = new Set(before.map((message) => message.info.id))

      await refuseAsks(directory, turn.signal)
      const slash = request.model?.indexOf('/') ?? -1
      await call('POST', sessionRoute(sessionId, '/message'), {
        ...control,
        timeoutMs: timeoutMs + 60_000,
        body: {
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
      }).catch((error: unknown) => unknownSession(sessionId, error))
      answered = true
    } catch (error) {
      if (!stoppedBy) throw error
    } finally {
      clearTimeout(timer)
      request.signal?.removeEventListener('abort', onAbort)
      turn.abort()
    }

    if (stoppedBy) {
      // Like a killed `opencode run`: the server goes, with every process the turn started.
      const partial = sessionId
        ? await turnResult(sessionId, seen, began).then(
            (turnDone) => turnDone.result,
            () => emptyRunResult(sessionId, Date.now() - began)
          )
        : undefined
      await stop()
      const details = { result: partial, stderr }
      if (stoppedBy === 'timeout') throw timedOutRun(timeoutMs, details)
      throw abortedRun(request.signal, { ...details, cause: request.signal?.reason })
    }
    if (!answered)
      throw new OpencodeRunError('opencode-failed', 'opencode serve did not run the turn')

    const { result, errorNames } = await turnResult(sessionId, seen, began)
    const details = { result, stderr }
    const failure =
      errorEventFailure(result.errors, errorNames, details) ?? rejectionFailure(result, details)
    if (failure) throw failure
    return result
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
    if ((await mode()) === 'cli') return cli.exportSession(sessionId, cwd)
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
    if ((await mode()) === 'cli' || !(await replaySession(exported, directory))) {
      await cli.importSession(text, cwd)
    }
    directories.set(exported.info.id, directory)
  }

  async function deleteSession(sessionId: string, cwd: string): Promise<void> {
    checkSessionId(sessionId)
    if ((await mode()) === 'cli') return cli.deleteSession(sessionId, cwd)
    try {
      await call('DELETE', sessionRoute(sessionId), { directory: cwd, timeoutMs: commandTimeoutMs })
    } catch (error) {
      if (error instanceof ServeHttpError && error.status === 404) return
      throw error
    }
    directories.delete(sessionId)
  }

  async function close(): Promise<void> {
    closing = true
    await stop()
    await started
    await stop()
    // after a fallback, per-command opencode may still run
    await cli.close()
  }

  const url = () => (child && baseUrl ? baseUrl : undefined)
  const secrets = () => [password]
  return { run, exportSession, importSession, deleteSession, start, mode, close, url, secrets }
}
