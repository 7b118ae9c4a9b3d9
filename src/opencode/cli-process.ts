/**
 * Runs one opencode command as a process of its own (through the Launcher) and collects what it
 * printed; stops it, with everything it started, on its timeout, an abort or close.
 *
 * Every spawn: the given cwd (also as `PWD`: opencode prefers `$PWD` over its real working
 * directory) and env (plus `OPENCODE_CONFIG_CONTENT`, see config.ts), stdin closed
 * (`opencode run` reads stdin to the end when it is not a TTY), its own process group. A run that
 * times out or is aborted gets SIGTERM, then SIGKILL after a grace period, sent to its group and to
 * the groups of everything it started (see process.ts).
 */
import type { ChildProcess } from 'node:child_process'
import path from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import type { DriverSettings } from './driver-options.js'
import { stripAnsi } from './events.js'

export interface SpawnResult {
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

export interface SpawnControl {
  timeoutMs: number
  signal?: AbortSignal
  onSpawn?: (pid: number) => void
  /** Called with stdout as it comes (for live progress); stdout is still collected whole. */
  onStdout?: (chunk: string) => void
  /** Written to stdin, which is then closed (opencode waits for a piped stdin to end). */
  input?: string
}

export interface CommandRunner {
  /** Runs `opencode ARGS` in `cwd`; resolves once it, and whatever it left behind, is gone. */
  spawnOpencode(args: string[], cwd: string, control: SpawnControl): Promise<SpawnResult>
  /** Stops every command still running, with everything it started. */
  close(): Promise<void>
}

const MAX_STDERR = 64 * 1024

/** Collects a process's stdout whole and the end of its stderr. */
function captureOutput(
  child: ChildProcess,
  onStdout?: (chunk: string) => void
): () => { stdout: string; stderr: string } {
  const stdout: Buffer[] = []
  let stderr = ''
  const decoder = onStdout ? new StringDecoder('utf8') : undefined
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout.push(chunk)
    if (decoder) onStdout?.(decoder.write(chunk))
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    if (stderr.length > 2 * MAX_STDERR) stderr = stderr.slice(-MAX_STDERR)
  })
  return () => ({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: stripAnsi(stderr) })
}

export function createCommandRunner(
  settings: Pick<DriverSettings, 'binary' | 'env' | 'killGraceMs' | 'launcher'>
): CommandRunner {
  const { launcher, killGraceMs } = settings
  /** Stops the commands still running (close): each resolves once its process tree is gone. */
  const running = new Set<() => Promise<void>>()

  function spawnOpencode(args: string[], cwd: string, control: SpawnControl): Promise<SpawnResult> {
    return new Promise((resolve) => {
      const started = Date.now()
      let killed: SpawnResult['killed']
      let stopping: Promise<void> | undefined
      let finishing = false
      let settled = false

      const child = launcher.spawn(settings.binary, args, {
        cwd,
        // opencode takes its directory from $PWD when set, not from its actual cwd
        env: { ...settings.env, PWD: path.resolve(cwd) },
        stdio: ['pipe', 'pipe', 'pipe']
      })
      const exited = new Promise<void>((done) => child.once('close', () => done()))
      const output = captureOutput(child, control.onStdout)
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

      const finish = async (
        result: Pick<SpawnResult, 'exitCode' | 'exitSignal' | 'spawnError'>
      ) => {
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
          ...output(),
          durationMs: Date.now() - started
        })
      }

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

  async function close(): Promise<void> {
    await Promise.all([...running].map((stop) => stop()))
  }

  return { spawnOpencode, close }
}
