import { MARKER_PREFIX, formatDuration, marker } from '../conversation/report.js'
import { detectForge, runUrl } from './forge.js'

/**
 * The tracking comment: posted as soon as a request is accepted, so the person asking sees that
 * kugetsu is on it while the agent works (a turn can take many minutes). The main step saves its
 * id; if the job then ends without main marking it done (cancelled, timed out, killed), the post
 * step rewrites it to say so, instead of leaving "working on it" forever.
 */

/** Names main passes to core.saveState and the post step reads back (as STATE_<name>). */
export const TRACKING_STATE = {
  /** Id of the tracking comment. */
  commentId: 'tracking-comment-id',
  /** `true` once main has dealt with the comment (replaced it with the reply or the failure). */
  done: 'tracking-done',
  /** The canonical ref, for the marker. */
  ref: 'tracking-ref'
} as const

/** What the post step says when it cannot know which of these ended the job. */
export const INTERRUPTED_WHY = 'the job was cancelled, timed out or stopped before kugetsu finished'

/** The link to this run (its attempt, after a re-run; by number on Gitea/Forgejo), or '' outside Actions. */
export function runUrlFromEnv(env: NodeJS.ProcessEnv): string {
  return runUrl(detectForge(env), {
    serverUrl: env.GITHUB_SERVER_URL ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    runId: env.GITHUB_RUN_ID,
    runNumber: env.GITHUB_RUN_NUMBER,
    attempt: env.GITHUB_RUN_ATTEMPT
  })
}

const runLink = (runUrl: string) => (runUrl ? ` ([run](${runUrl}))` : '')

function trackingMarker(state: 'working' | 'interrupted', ref: string): string {
  return marker(ref ? { ref, tracking: state } : { tracking: state })
}

/** Whether a comment is a tracking comment (not a reply), from its marker. */
export function isTrackingComment(body: string): boolean {
  const start = body.indexOf(MARKER_PREFIX)
  if (start === -1) return false
  const end = body.indexOf('-->', start)
  return /\btracking=/.test(body.slice(start, end === -1 ? undefined : end))
}

/**
 * "Working on it", with live progress once there is some: the steps so far (Markdown lines made
 * safe by the caller, see conversation/progress.ts) and the time since the turn started.
 */
export function workingBody(runUrl: string, ref = '', steps = '', elapsedMs?: number): string {
  const since = elapsedMs === undefined ? '' : ` · ${formatDuration(elapsedMs)}`
  const progress = steps ? `\n\n${steps}\n` : ''
  return `_kugetsu is working on it…_${runLink(runUrl)}${since}${progress}\n${trackingMarker('working', ref)}`
}

export function interruptedBody(runUrl: string, why: string = INTERRUPTED_WHY, ref = ''): string {
  return [
    `**kugetsu stopped without replying:** ${why}.${runLink(runUrl)}`,
    'Ask again to retry.',
    trackingMarker('interrupted', ref)
  ].join('\n')
}
