/**
 * How often the tracking comment may be edited with live progress (pure: the clock is given).
 *
 * GitHub's secondary rate limits allow about 80 content-creating requests a minute and 500 an
 * hour per token, shared by every run in the repository. One edit every 10 s is 6 a minute, so
 * even ten turns at once stay under the minute's limit; no edit comes sooner than 5 s after the
 * last whatever the interval asks for; and at most 60 edits a turn (10 minutes of updates at the
 * default pace; later steps show only in the answer) keeps eight long turns in an hour under the
 * hour's limit, with room for kugetsu's other calls.
 */

export interface ProgressPace {
  /** Time between two edits. */
  intervalMs: number
  /** Edits of one turn in all. */
  maxEdits: number
}

export const PROGRESS_FLOOR_MS = 5_000
export const DEFAULT_PROGRESS_PACE: ProgressPace = { intervalMs: 10_000, maxEdits: 60 }

export interface Pacer {
  /** How long until an edit may go (0: now); undefined when the turn has had all its edits. */
  wait(): number | undefined
  /** An edit went now. */
  record(): void
  readonly edits: number
}

export function createPacer(pace: ProgressPace, now: () => number): Pacer {
  const intervalMs = Math.max(PROGRESS_FLOOR_MS, pace.intervalMs)
  let last: number | undefined
  let edits = 0
  return {
    wait() {
      if (edits >= pace.maxEdits) return undefined
      // The first edit may go at once: the tracking comment was the only request before it.
      if (last === undefined) return 0
      return Math.max(0, last + intervalMs - now())
    },
    record() {
      last = now()
      edits++
    },
    get edits() {
      return edits
    }
  }
}
