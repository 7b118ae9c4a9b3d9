/**
 * One turn on an issue, as a pipeline: where it works, the checkout (ready while the issue hears
 * from kugetsu), the session's state, the agent's turn, its work published (commit, push, pull
 * request), the state saved, the answer.
 */
import * as core from '@actions/core'
import { formatIssueRef, parseIssueRef, type IssueRef } from '../../refs.js'
import type { IssueInfo } from '../github/event.js'
import { agentIssue } from '../conversation/message.js'
import { firstTurnPrompt, laterTurnPrompt } from '../conversation/prompt.js'
import { actionsLogins } from '../github/forge.js'
import { MEMORY_REBUILT_NOTE, rebuildThread, rebuiltTurnPrompt } from '../conversation/thread.js'
import { commentsSince } from '../sessions/tombstone.js'
import type { Forgetting } from '../../store/types.js'
import type { CheckedOut } from '../work/checkout.js'
import { workPrompt } from '../work/work-prompt.js'
import { warnIfUnsealed, type RunContext, type TurnRequest } from './context.js'
import { acknowledge, publishTurn, startTracking } from './reply.js'
import { ensureBase, restoreIssueState, saveIssueState } from './turn-state.js'
import { newsSinceLastTurn, planTurnWork, publishTurnWork, startCheckout } from './work.js'
import { inStage } from './stage.js'
import { updateSessionIndex } from './session-index-store.js'
import { openWorkspace, type Workspace } from './workspace.js'

export async function handleTurn(request: TurnRequest, context: RunContext): Promise<void> {
  const where = agentIssue(
    await inStage('reading the issue', issueOf(request.ref, request, context))
  )
  const plan = await inStage('reading the issue', planTurnWork(request, where, context))
  const sessionRef = parseIssueRef(`#${plan.sessionNumber}`, context.repo)
  // The checkout, then opencode (installed if need be), get ready while the issue hears from kugetsu.
  const checkout = startCheckout(plan, context)
  const checkingOut = inStage('checking out the branch', checkout.checkedOut)
  checkingOut.catch(() => undefined)
  const opening = openWorkspace(context, checkingOut)
  opening.catch(() => undefined)
  try {
    await acknowledge(request, context)
    await startTracking(request.ref.number, formatIssueRef(sessionRef), context)
    warnIfUnsealed(context)
    const workspace = await inStage('setting up opencode', opening)
    try {
      const turn = { request, where, sessionRef, checkedOut: await checkingOut, workspace }
      await turnInWorkspace(turn, context)
    } finally {
      await workspace.close()
    }
  } finally {
    await checkout.release()
  }
}

interface Turn {
  request: TurnRequest
  /** The issue or pull request the comment is on. */
  where: IssueInfo
  /** The issue whose session the turn continues. */
  sessionRef: IssueRef
  checkedOut: CheckedOut | undefined
  workspace: Workspace
}

/** The session restored, the agent's turn, its work published, the session saved, the answer. */
async function turnInWorkspace(turn: Turn, context: RunContext): Promise<void> {
  const { request, sessionRef, checkedOut, workspace } = turn
  const ref = formatIssueRef(sessionRef)
  const state = await inStage("restoring the issue's session", async () => {
    const restored = await restoreIssueState(ref, sessionRef.number, context, workspace)
    if (!restored.previous) await ensureBase(context, workspace)
    return restored
  })
  const issue =
    sessionRef.number === turn.where.number
      ? turn.where
      : agentIssue(await issueOf(sessionRef, undefined, context))
  const first = state.previous
    ? undefined
    : await firstPrompt(request, issue, context, state.forgotten)
  const news = await newsSinceLastTurn(checkedOut, state.previous?.work)
  const message = first?.prompt ?? laterTurnPrompt(request.author, request.message)
  const outcome = await inStage(
    "running the agent's turn",
    workspace.engine.run(ref, withWork(message, checkedOut, news))
  )
  await workspace.stopAgent()

  const published = await inStage(
    "publishing the agent's work",
    publishTurnWork(checkedOut, request, issue, outcome.record, context)
  )
  if (published.record !== outcome.record) {
    await workspace.store.putIssueRecord(published.record)
  }
  const notes = first?.rebuilt ? [MEMORY_REBUILT_NOTE] : []
  const lostRace = await inStage(
    "saving the issue's session",
    saveIssueState(ref, sessionRef.number, published.record, state, context, workspace)
  )
  await updateSessionIndex(context, {
    number: sessionRef.number,
    ref,
    sessionId: published.record.sessionId ?? '',
    turns: published.record.turns,
    lastUsedAt: new Date().toISOString(),
    ...(published.record.work ? { branch: published.record.work.branch } : {})
  })
  if (lostRace) {
    const note = `Another run saved a newer session for ${ref} (\`${lostRace}\`) while this one worked; this reply does not know that run's turn, and the next turn continues from this one.`
    core.warning(note)
    notes.push(note)
  }
  notes.push(...published.report.notes)
  const answer = {
    outcome: { ...outcome, record: published.record },
    sessionRef: ref,
    // A tombstone restores no session: the state is new.
    restoredKey: state.forgotten ? undefined : state.restoredKey,
    notes,
    work: published.report
  }
  await inStage('answering on the issue', () => publishTurn(request, answer, context))
}

/** The message with what the agent should know of its worktree: the branch, what others pushed. */
function withWork(message: string, checkedOut: CheckedOut | undefined, news: string): string {
  const work = workPrompt(checkedOut, news)
  return work ? `${work}\n\n${message}` : message
}

/**
 * The first prompt of an issue without state: a plain first turn, or, when kugetsu has replied
 * on the issue before (its session was lost: evicted from the cache), one that carries the thread.
 * After a tombstone only what came after it counts: the thread before was forgotten on purpose.
 */
async function firstPrompt(
  request: TurnRequest,
  issue: IssueInfo,
  context: RunContext,
  forgotten: Forgetting | undefined
): Promise<{ prompt: string; rebuilt: boolean }> {
  const ref = formatIssueRef(parseIssueRef(`#${issue.number}`, context.repo))
  const all = await context.github.comments(issue.number)
  const comments = forgotten ? commentsSince(all, forgotten) : all
  const thread = rebuildThread(issue, comments, {
    kugetsuLogins: actionsLogins(context.runner.forge),
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
 * An issue as the event carried it, else (manual runs, a pull request's issue) read through the
 * REST API. Read before any other work, so a wrong number fails at once.
 */
async function issueOf(
  ref: IssueRef,
  request: TurnRequest | undefined,
  context: RunContext
): Promise<IssueInfo> {
  if (request?.issue) return request.issue
  return context.github.issue(ref.number, formatIssueRef(ref))
}
