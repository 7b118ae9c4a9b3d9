/**
 * One turn on an issue, as a pipeline: where it works, the checkout (ready while the issue hears
 * from kugetsu), the session's state, the agent's turn, its work published (commit, push, pull
 * request), the state saved, the answer.
 */
import * as core from '@actions/core'
import { formatIssueRef, parseIssueRef, type IssueRef } from '../../refs.js'
import type { IssueInfo } from '../github/event.js'
import { agentIssue } from '../conversation/message.js'
import { MEMORY_REBUILT_NOTE } from '../conversation/thread.js'
import { createFrame } from '../conversation/untrusted.js'
import type { CheckedOut } from '../work/checkout.js'
import { workPrompt } from '../work/work-prompt.js'
import { warnIfUnsealed, type RunContext, type TurnRequest } from './context.js'
import { acknowledge, publishTurn, startTracking, trackProgress } from './reply.js'
import { ensureBase, newerIssueState, restoreIssueState, saveIssueState } from './turn-state.js'
import { newsSinceLastTurn, planTurnWork, publishTurnWork, startCheckout } from './work.js'
import { inStage } from './stage.js'
import { turnPrompt } from './turn-prompt.js'
import { checkBudget, costLeft, keepStoppedTurn } from './budget.js'
import { replyWithoutModel } from '../commands/commands.js'
import { OpencodeRunError } from '../../opencode/run-errors.js'
import { updateSessionIndex } from './session-index-store.js'
import { openWorkspace, type Workspace } from './workspace.js'

export async function handleTurn(request: TurnRequest, context: RunContext): Promise<void> {
  const where = agentIssue(
    await inStage('reading the issue', issueOf(request.ref, request, context))
  )
  const plan = await inStage('reading the issue', planTurnWork(request, where, context))
  const sessionRef = parseIssueRef(`#${plan.sessionNumber}`, context.repo)
  const refusal = await inStage(
    'reading the issue',
    checkBudget(formatIssueRef(sessionRef), sessionRef.number, context)
  )
  if (refusal) {
    core.info(`${formatIssueRef(sessionRef)}: refused by its budget, the model was not run`)
    return replyWithoutModel(request, 'budget', refusal, context, true)
  }
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
  // A nonce of its own for every turn: text written before it cannot know it.
  const frame = createFrame()
  const news = await newsSinceLastTurn(checkedOut, state.previous?.work, frame)
  const work = workPrompt(checkedOut, news)
  const built = await turnPrompt(
    { request, issue, ref, previous: state.previous, forgotten: state.forgotten, frame, work },
    context
  )
  const maxCost = costLeft(state.previous, context.inputs)
  if (maxCost !== undefined && !context.inputs.opencodeServe) {
    core.warning(
      'max-cost-per-issue can stop a turn while it runs only with opencode-serve: true; with opencode per command it is checked before each turn'
    )
  }
  const progress = trackProgress(ref, context)
  const outcome = await inStage("running the agent's turn", async () => {
    try {
      return await workspace.engine.run(ref, built.prompt, {
        maxCost,
        onProgress: progress?.onProgress
      })
    } finally {
      // before the answer or the failure is written over the tracking comment
      await progress?.stop()
    }
  }).catch(async (error: unknown) => {
    if (!(error instanceof OpencodeRunError) || error.code !== 'budget-exceeded') throw error
    throw await keepStoppedTurn(ref, sessionRef.number, error, state, context, workspace)
  })
  // whether another run saved meanwhile: asked while the agent stops and its work is published
  const newer = newerIssueState(ref, sessionRef.number, state, context, workspace)
  await workspace.stopAgent()

  const published = await inStage(
    "publishing the agent's work",
    publishTurnWork(checkedOut, request, issue, outcome.record, context)
  )
  // What the session was told is saved only now: a failed turn's news is told again.
  const record = { ...published.record, seen: built.seen }
  await workspace.store.putIssueRecord(record)
  const notes = built.rebuilt ? [MEMORY_REBUILT_NOTE] : []
  const lostRace = await inStage(
    "saving the issue's session",
    saveIssueState(ref, sessionRef.number, record, newer, context, workspace)
  )
  // never fails the run; saved while the answer is posted, as the answer needs nothing of it
  const indexing = updateSessionIndex(context, {
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
    outcome: { ...outcome, record },
    sessionRef: ref,
    // A tombstone restores no session: the state is new.
    restoredKey: state.forgotten ? undefined : state.restoredKey,
    notes,
    work: published.report
  }
  try {
    await inStage('answering on the issue', () => publishTurn(request, answer, context))
  } finally {
    await indexing
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
