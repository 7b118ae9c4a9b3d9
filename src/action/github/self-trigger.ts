/**
 * Breaking the loop an agent given the token (expose-github-token) could start: its comment
 * carries no marker, and a personal token's comments start workflows, so one turn could trigger
 * the next without end.
 *
 * The agent cannot be made to mark what it posts (it can call the API directly), so kugetsu
 * tells such a comment by when and as whom it was posted: by the account kugetsu's own comments
 * come from, while one of kugetsu's turns ran. A turn's span is its tracking comment's: posted
 * before opencode starts, edited into the reply (or the failure) after opencode stopped, so
 * [created, last edited] covers all the agent did; a comment still saying "working" spans up to
 * the longest a job runs. Turns on every issue count: the agent may post on another issue.
 *
 * The account is read from kugetsu's marked comments rather than asked of the API: an app's token
 * cannot say who it is, and a forged marker only ever refuses the forger's own comments (the
 * author must match). The cost: with a personal token, its owner's own comments made while a turn
 * runs are not answered; they can ask again once it has replied. With `comment: false` kugetsu
 * posts nothing to tell its turns by, and the workflow must not give the agent a personal token.
 */
import type { ThreadComment } from '../conversation/thread.js'
import { isKugetsuComment } from '../conversation/report.js'
import { isTrackingComment } from './tracking.js'

/** The longest a GitHub-hosted job runs; a "working" comment older than that is left behind. */
export const LONGEST_TURN_MS = 6 * 60 * 60_000

export interface TriggerFacts {
  id: number
  author: string
  /** When the trigger comment was created (ISO 8601). */
  createdAt: string
}

const time = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN)

function isWorking(comment: ThreadComment): boolean {
  return isTrackingComment(comment.body) && /\btracking=working\b/.test(comment.body)
}

/**
 * The kugetsu comment (tracking or reply) of a turn that was running, as the trigger's own author,
 * when the trigger comment was created; undefined when there is none.
 */
export function turnRunningAt(
  trigger: TriggerFacts,
  comments: ThreadComment[]
): ThreadComment | undefined {
  const at = time(trigger.createdAt)
  if (Number.isNaN(at)) return undefined
  const author = trigger.author.toLowerCase()
  return comments.find((comment) => {
    if (comment.id === trigger.id || comment.author.toLowerCase() !== author) return false
    if (!isKugetsuComment(comment.body)) return false
    const created = time(comment.createdAt)
    if (!(created <= at)) return false
    if (isWorking(comment)) return at - created <= LONGEST_TURN_MS
    return time(comment.updatedAt ?? comment.createdAt) >= at
  })
}

/**
 * The turn running when the trigger comment was posted by kugetsu's own account, read from the
 * comments edited since the longest turn before it (one paginated call); undefined when none.
 */
export async function ownTurnRunningAt(
  trigger: { id: number; author: string; createdAt?: string },
  commentsSince: (since: string) => Promise<ThreadComment[]>,
  now = Date.now()
): Promise<ThreadComment | undefined> {
  const posted = time(trigger.createdAt)
  const at = Number.isNaN(posted) ? now : posted
  const comments = await commentsSince(new Date(at - LONGEST_TURN_MS).toISOString())
  const createdAt =
    comments.find((comment) => comment.id === trigger.id)?.createdAt ?? new Date(at).toISOString()
  return turnRunningAt({ id: trigger.id, author: trigger.author, createdAt }, comments)
}
