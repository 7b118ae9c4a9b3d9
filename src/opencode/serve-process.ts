/**
 * The `opencode serve` process of the serve driver: started on a free loopback port with its
 * password, waited for until it says it listens (or why it never will), stopped with all it started.
 */
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import path from 'node:path'
import type { DriverSettings } from './driver-options.js'
import { stripAnsi } from './events.js'
import { OpencodeRunError, exitMessage } from './run-errors.js'
import type { ServeEndpoint } from './serve-http.js'

/** 'serve' while the server listens; 'cli' when it could not start (the CLI driver takes over). */
export type ServeMode = 'serve' | 'cli'

export interface ServeProcessOptions {
  settings: Pick<DriverSettings, 'binary' | 'env' | 'killGraceMs' | 'launcher'>
  /** The directory serve starts in. */
  cwd: string
  /** Required of every request (`OPENCODE_SERVER_PASSWORD`). */
  password: string
  /** How long serve may take to start listening. */
  startTimeoutMs: number
  /** Told why, once, when serve could not start (not when it was closed first). */
  onFallback?: (reason: string) => void
  /** Called once the server listens, before mode() says so. */
  onListening?: () => void
}

export interface ServeProcess extends ServeEndpoint {
  /** Starts the server in the background (again: nothing). */
  start(): void
  /** Starts the server if need be; how it went, once it did. */
  mode(): Promise<ServeMode>
  /** Where the server listens, while it runs. */
  url(): string | undefined
  pid(): number | undefined
  goneFailure(cause: unknown): Promise<OpencodeRunError>
  /** Stops the server and every process it started (their groups: see process.ts). */
  stop(): Promise<void>
  /**
   * Stops it for good: a server still starting is stopped, not waited for. `graceMs` (default
   * killGraceMs) is how long it has to end after SIGTERM before SIGKILL.
   */
  close(options?: { graceMs?: number }): Promise<void>
}

const MAX_STDERR = 64 * 1024
const LISTENING = /listening on (http:\/\/[^\s]+)/

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

export function createServeProcess(options: ServeProcessOptions): ServeProcess {
  const { settings, startTimeoutMs } = options
  let child: ChildProcess | undefined
  let started: Promise<ServeMode> | undefined
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

  /** Starts the server; `child`, `exited`, `exit` and `stderr` follow it from here on. */
  function spawnServer(port: number): ChildProcess {
    exit = undefined
    stderr = ''
    const server = settings.launcher.spawn(
      settings.binary,
      ['serve', '--hostname', '127.0.0.1', '--port', String(port)],
      {
        cwd: options.cwd,
        env: {
          ...settings.env,
          OPENCODE_SERVER_PASSWORD: options.password,
          // opencode takes its directory from $PWD when set, not from its actual cwd
          PWD: path.resolve(options.cwd)
        },
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    child = server
    exited = new Promise((done) => server.once('close', () => done()))
    server.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_STDERR)
    })
    server.on('close', (code, signal) => (exit = { code, signal }))
    return server
  }

  /** 'serve' once the server says where it listens; 'cli' when it fails, ends or takes too long. */
  function awaitListening(server: ChildProcess): Promise<ServeMode> {
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
        options.onListening?.()
        resolve('serve')
      }
      server.stdout?.setEncoding('utf8').on('data', onOutput)
      server.stderr?.setEncoding('utf8').on('data', onOutput)
      server.on('error', (error) => fallBack(`cannot run opencode serve: ${error.message}`))
      server.on('close', () => {
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

  async function launch(): Promise<ServeMode> {
    const port = await freePort().catch(() => 0)
    if (closing) return 'cli'
    return awaitListening(spawnServer(port))
  }

  function start(): void {
    started ??= launch()
  }

  function mode(): Promise<ServeMode> {
    start()
    return started as Promise<ServeMode>
  }

  async function stop(graceMs = settings.killGraceMs): Promise<void> {
    const server = child
    if (!server?.pid) return
    stopping ??= settings.launcher
      .stopTree(server.pid, exited, graceMs)
      .finally(() => (stopping = undefined))
    return stopping
  }

  async function close(options: { graceMs?: number } = {}): Promise<void> {
    closing = true
    await stop(options.graceMs)
    await started
    await stop(options.graceMs)
  }

  /** Waits a moment for the server's end, so that the failure can say how it ended. */
  async function goneFailure(cause: unknown): Promise<OpencodeRunError> {
    await Promise.race([exited, new Promise((done) => setTimeout(done, 1_000).unref())])
    return new OpencodeRunError('opencode-failed', serverGone(), {
      exitCode: exit?.code ?? null,
      exitSignal: exit?.signal ?? null,
      stderr,
      cause
    })
  }

  return {
    start,
    mode,
    stop,
    close,
    goneFailure,
    baseUrl: () => baseUrl,
    url: () => (child && baseUrl ? baseUrl : undefined),
    pid: () => child?.pid,
    stderr: () => stderr
  }
}
