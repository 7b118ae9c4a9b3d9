/**
 * One turn on an issue, as a pipeline: the issue, the workspace (ready while the issue hears from
 * kugetsu), the issue's state, the agent's turn, the state saved, the answer published.
 */
import * as core from '@actions/core'
import { formatIssueRef } from '../../refs.js'
import type { IssueInfo } from '../github/event.js'
import { agentIssue } from '../conversation/message.js'
import { firstTurnPrompt, laterTurnPrompt } from '../conversation/prompt.js'
import { MEMORY_REBUILT_NOTE, rebuildThread, rebuiltTurnPrompt } from '../conversation/thread.js'
import { warnIfUnsealed, type RunContext, type TurnRequest } from './context.js'
import { acknowledge, publishTurn, startTracking } from './reply.js'
import { ensureBase, restoreIssueState, saveIssueState } from './turn-state.js'
import { openWorkspace } from './workspace.js'

export async function handleTurn(request: TurnRequest, context: RunContext): Promise<void> {
  const ref = formatIssueRef(request.ref)
  const issue = agentIssue(await issueOf(request, context))
  // opencode (installed if need be) and its server get ready while the issue hears from kugetsu
  const opening = openWorkspace(context)
  opening.catch(() => undefined)
  await acknowledge(request, context)
  await startTracking(request.ref.number, ref, context)
  warnIfUnsealed(context)
  const workspace = await opening
  try {
    const state = await restoreIssueState(ref, request.ref.number, context, workspace)
    if (!state.previous) await ensureBase(context, workspace)
    const first = state.previous ? undefined : await firstPrompt(request, issue, context)
    const prompt = first?.prompt ?? laterTurnPrompt(request.author, request.message)
    const outcome = await workspace.engine.run(ref, prompt)
    const notes = first?.rebuilt ? [MEMORY_REBUILT_NOTE] : []
    const number = request.ref.number
    const lostRace = await saveIssueState(ref, number, outcome.record, state, context, workspace)
    if (lostRace) {
      const note = `Another run saved a newer session for ${ref} (\`${lostRace}\`) while this one worked; this reply does not know that run's turn, and the next turn continues from this one.`
      core.warning(note)
      notes.push(note)
    }
    await publishTurn(request, outcome, state.restoredKey, notes, context)
  } finally {
    await workspace.close()
  }
}

/**
 * The first prompt of an issue without state: a plain first turn, or, when kugetsu has replied
 * on the issue before (its session was lost: evicted from the cache), one that carries the thread.
 */
async function firstPrompt(
  request: TurnRequest,
  issue: IssueInfo,
  context: RunContext
): Promise<{ prompt: string; rebuilt: boolean }> {
  const ref = formatIssueRef(request.ref)
  const comments = await context.github.comments(request.ref.number)
  const thread = rebuildThread(issue, comments, {
    excludeIds: [request.comment?.id, context.tracking?.id].filter(
      (id): id is number => id !== undefined
    )
  })
  if (!thread.hadEarlierReplies) {
    return { prompt: firstTurnPrompt(ref, issue, request.author, request.message), rebuilt: false }
  }
  core.info(
    `${ref} has earlier kugetsu replies but no saved session: rebuilding from ${thread.includedComments} comment(s)`
  )
  return {
    prompt: rebuiltTurnPrompt(ref, issue, thread, request.author, request.message),
    rebuilt: true
  }
}

/**
 * The issue a turn is on: as the event carried it, else (manual runs) read through the REST API.
 * Read before any other work, so a wrong number fails at once.
 */
async function issueOf(request: TurnRequest, context: RunContext): Promise<IssueInfo> {
  if (request.issue) return request.issue
  return context.github.issue(request.ref.number, formatIssueRef(request.ref))
}
