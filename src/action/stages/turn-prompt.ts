/**
 * The text of a turn: how to read it, the worktree, then the issue (a first turn), the thread (a
 * session rebuilt after its loss) or what happened since the last turn (a continue), then the
 * request; and what the session will have seen once the turn succeeds.
 */
import * as core from '@actions/core'
import { errorMessage } from '../../errors.js'
import type { ConversationSeen, Forgetting, IssueRecord } from '../../store/types.js'
import { isKugetsuComment } from '../conversation/report.js'
import { composePrompt, issueSection } from '../conversation/prompt.js'
import { seenNow, sinceLastTurn, sinceParam } from '../conversation/since-last-turn.js'
import { rebuildThread, rebuiltSection, type ThreadComment } from '../conversation/thread.js'
import { createTrust, type Trust } from '../conversation/trust.js'
import type { Frame } from '../conversation/untrusted.js'
import { findAccess } from '../github/access.js'
import type { IssueInfo } from '../github/event.js'
import { actionsLogins } from '../github/forge.js'
import { commentsSince } from '../sessions/tombstone.js'
import type { RunContext, TurnRequest } from './context.js'

export interface TurnPrompt {
  prompt: string
  /** The session is new but kugetsu had answered before: its memory was rebuilt from the thread. */
  rebuilt: boolean
  /** To save with the record after a successful turn. */
  seen: ConversationSeen | undefined
}

export interface TurnPromptInput {
  request: TurnRequest
  /** The issue whose session the turn continues, as the agent may read it. */
  issue: IssueInfo
  /** Its formatted ref. */
  ref: string
  previous: IssueRecord | undefined
  /** The tombstone the restore met: the thread before it was forgotten on purpose. */
  forgotten?: Forgetting
  frame: Frame
  /** What kugetsu tells of the worktree (may be empty). */
  work: string
}

export async function turnPrompt(input: TurnPromptInput, context: RunContext): Promise<TurnPrompt> {
  const { request, issue, previous, frame } = input
  const { inputs, github } = context
  const trust = createTrust({
    minPermission: inputs.minPermission,
    allowedUsers: inputs.allowedUsers,
    allowedBots: inputs.allowedBots,
    forge: context.runner.forge,
    permissionOf: (login) => findAccess(login, github, context.runner.forge),
    known: [request.author]
  })
  const excludeIds = [request.comment?.id, context.tracking?.id].filter(
    (id): id is number => id !== undefined
  )
  const parts = {
    frame,
    minPermission: inputs.minPermission,
    author: request.author,
    message: request.message
  }
  if (previous?.sessionId) {
    const since = sinceParam(previous.seen, previous.updatedAt)
    const comments = await github.comments(issue.number, since).catch((error: unknown) => {
      // The request still gets its turn; what was missed is told next time (seen stays).
      core.warning(
        `could not read the comments of ${input.ref} (${errorMessage(error)}): this turn is not told what happened since the last one; the next is`
      )
      return undefined
    })
    if (!comments) {
      return { prompt: composePrompt(parts, [input.work]), rebuilt: false, seen: previous.seen }
    }
    const people = peopleNewestFirst(issue, comments)
    await trust.lookUp(people)
    const news = sinceLastTurn({
      issue,
      seen: previous.seen,
      lastTurnAt: previous.updatedAt,
      comments,
      excludeIds,
      kugetsuLogins: await kugetsuLogins(comments, context),
      trustOf: trust.of,
      frame
    })
    if (news.text) {
      core.info(
        `Telling the agent what happened since its last turn: ${news.included} comment(s), ${news.omitted} left out`
      )
    }
    return {
      prompt: composePrompt(parts, [input.work, news.text]),
      rebuilt: false,
      seen: news.seen
    }
  }

  const all = await github.comments(issue.number)
  const comments = input.forgotten ? commentsSince(all, input.forgotten) : all
  const people = peopleNewestFirst(issue, comments)
  // Everything written so far counts as seen, also what a forget left out: a comment stamped in
  // the tombstone's second falls before it (the forge's times have no milliseconds), and a
  // session that had seen no comment would be told the whole thread as news on its next turn.
  const seen = seenNow(issue, all)
  const logins = await kugetsuLogins(comments, context)
  const probe = rebuildThread(issue, comments, frame, { excludeIds, kugetsuLogins: logins })
  if (!probe.hadEarlierReplies) {
    await trust.lookUp(people.slice(0, 1))
    const section = issueSection(input.ref, issue, frame, trust.of(issue.author) === true)
    return { prompt: composePrompt(parts, [input.work, section]), rebuilt: false, seen }
  }
  await trust.lookUp(people)
  const thread = rebuildThread(issue, comments, frame, {
    excludeIds,
    kugetsuLogins: logins,
    trustOf: trust.of
  })
  core.info(
    `${input.ref} has earlier kugetsu replies but no saved session: rebuilding from ${thread.includedComments} comment(s)`
  )
  const section = rebuiltSection(input.ref, issue, thread)
  return { prompt: composePrompt(parts, [input.work, section]), rebuilt: true, seen }
}

/** The issue's author, then the commenters from the newest: who to look up first. */
function peopleNewestFirst(
  issue: IssueInfo,
  comments: ThreadComment[]
): Parameters<Trust['lookUp']>[0] {
  const newest = [...comments].sort((a, b) => b.id - a.id)
  return [
    { login: issue.author },
    ...newest.map((comment) => ({ login: comment.author, userType: comment.authorType }))
  ]
}

/**
 * The login kugetsu posts as when that is a person (a personal token): asked only when a comment
 * by a person carries kugetsu's marker, since it costs an API call.
 */
async function kugetsuLogins(comments: ThreadComment[], context: RunContext): Promise<string[]> {
  const marked = comments.some(
    (c) =>
      isKugetsuComment(c.body) &&
      c.authorType?.toLowerCase() !== 'bot' &&
      !c.author.endsWith('[bot]')
  )
  const own = actionsLogins(context.runner.forge)
  if (!marked) return own
  const user = await context.github.tokenUser().catch(() => undefined)
  return user ? [...own, user.login] : own
}
