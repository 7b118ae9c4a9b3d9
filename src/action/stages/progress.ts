/**
 * Live progress: while the agent works, the tracking comment lists its steps, edited at the pace
 * of progress-pace.ts. Edits go one at a time, and stop() waits for the one in flight, so no
 * progress edit can land after (and overwrite) the answer. A failed edit is logged, never fatal.
 */
import * as core from '@actions/core'
import { errorMessage } from '../../errors.js'
import type { ToolProgress } from '../../opencode/types.js'
import { ProgressLog, progressLines } from '../conversation/progress.js'
import type { PostedComment } from '../github/github.js'
import { createPacer, DEFAULT_PROGRESS_PACE, type ProgressPace } from '../github/progress-pace.js'
import { workingBody } from '../github/tracking.js'

export interface ProgressOptions {
  /** The tracking comment to edit. */
  tracking: PostedComment
  updateComment(commentId: number, body: string): Promise<unknown>
  redact(text: string): string
  runUrl: string
  /** The session's ref, for the tracking marker. */
  ref: string
  /** The agent's working directory: paths under it are shown relative to it. */
  cwd: string
  pace?: ProgressPace
  now?: () => number
  setTimer?: (run: () => void, ms: number) => unknown
  clearTimer?: (timer: unknown) => void
  warn?: (message: string) => void
}

export interface ProgressUpdater {
  /** For RunRequest.onProgress: records the step, edits the comment when the pace allows. */
  onProgress(step: ToolProgress): void
  /** No edit after this resolves (the one in flight has ended). */
  stop(): Promise<void>
  /** Edits made. */
  readonly edits: number
}

export function startProgress(options: ProgressOptions): ProgressUpdater {
  const now = options.now ?? Date.now
  const setTimer =
    options.setTimer ??
    ((run: () => void, ms: number) => {
      const timer = setTimeout(run, ms)
      timer.unref()
      return timer
    })
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as NodeJS.Timeout))
  const warn = options.warn ?? ((message: string) => core.warning(message))
  const startedAt = now()
  const log = new ProgressLog(options.cwd)
  const pacer = createPacer(options.pace ?? DEFAULT_PROGRESS_PACE, now)
  let changed = false
  let stopped = false
  let timer: unknown
  let inFlight: Promise<void> | undefined

  const body = () =>
    workingBody(
      options.runUrl,
      options.ref,
      progressLines(log, options.redact).join('\n'),
      now() - startedAt
    )

  function schedule(): void {
    if (stopped || !changed || timer !== undefined || inFlight) return
    const wait = pacer.wait()
    if (wait === undefined) return
    if (wait === 0) {
      edit()
      return
    }
    timer = setTimer(() => {
      timer = undefined
      schedule()
    }, wait)
  }

  function edit(): void {
    changed = false
    pacer.record()
    inFlight = options
      .updateComment(options.tracking.id, body())
      .then(
        () => undefined,
        (error: unknown) =>
          warn(`could not show progress on the tracking comment: ${errorMessage(error)}`)
      )
      .finally(() => {
        inFlight = undefined
        schedule()
      })
  }

  return {
    onProgress(step) {
      if (stopped) return
      if (log.add(step, now() - startedAt)) changed = true
      schedule()
    },
    async stop() {
      stopped = true
      if (timer !== undefined) clearTimer(timer)
      timer = undefined
      await inFlight
    },
    get edits() {
      return pacer.edits
    }
  }
}
