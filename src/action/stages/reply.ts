/**
 * What the issue hears from kugetsu during a turn: 👀, the "working on it" comment, and the answer
 * it is edited into, with the step's outputs and summary.
 */
import * as core from '@actions/core'
import type { TurnOutcome } from '../../engine.js'
import { errorMessage } from '../../errors.js'
import type { PostedComment } from '../github/github.js'
import {
  formatCost,
  formatDuration,
  noteBlock,
  replyBody,
  summaryTable
} from '../conversation/report.js'
import { TRACKING_STATE, workingBody } from '../github/tracking.js'
import type { RunContext, TurnRequest } from './context.js'
import { startProgress, type ProgressUpdater } from './progress.js'
import type { WorkReport } from './work.js'

function workRows(work: WorkReport): [string, string][] {
  const rows: [string, string][] = []
  if (work.branch) rows.push(['Branch', work.branch])
  if (work.commit) rows.push(['Commit', work.changesUrl ?? work.commit])
  if (work.pullRequest) rows.push(['Pull request', work.pullRequest.url])
  return rows
}

/** 👀 on the triggering comment, so its author sees at once that kugetsu took it up. */
export async function acknowledge(request: TurnRequest, context: RunContext): Promise<void> {
  if (!request.comment || !context.inputs.comment) return
  try {
    await context.github.reactToComment(request.comment.id, 'eyes')
  } catch (error) {
    core.warning(`could not react to the comment: ${errorMessage(error)}`)
  }
}

/**
 * The "working on it" comment, posted before opencode starts. Its id is saved for the post step,
 * which rewrites it if the job ends before this step edits it into the reply or the failure.
 */
export async function startTracking(
  issueNumber: number,
  ref: string,
  context: RunContext
): Promise<void> {
  if (!context.inputs.comment) return
  try {
    context.tracking = await context.github.createComment(
      issueNumber,
      workingBody(context.runUrl, ref)
    )
    core.saveState(TRACKING_STATE.commentId, String(context.tracking.id))
    core.saveState(TRACKING_STATE.ref, ref)
  } catch (error) {
    core.warning(`could not post the tracking comment: ${errorMessage(error)}`)
  }
}

/**
 * Live progress on the tracking comment for one turn (undefined without one, or with `progress`
 * off). Its stop() must resolve before anything else edits the comment.
 */
export function trackProgress(ref: string, context: RunContext): ProgressUpdater | undefined {
  const { tracking } = context
  if (!tracking || !context.inputs.progress) return undefined
  return startProgress({
    tracking,
    updateComment: (id, body) => context.github.updateComment(id, body),
    redact: (text) => context.publish.redact(text),
    runUrl: context.runUrl,
    ref,
    cwd: context.runner.workingDirectory
  })
}

/** Posts `body` on the issue: as an edit of the tracking comment when there is one. */
export async function answerOnIssue(
  issueNumber: number,
  body: string,
  context: RunContext
): Promise<PostedComment> {
  if (!context.tracking) return context.github.createComment(issueNumber, body)
  const answer = await context.github.updateComment(context.tracking.id, body)
  core.saveState(TRACKING_STATE.done, 'true')
  return answer
}

/** What a finished turn tells: its outcome, its session's ref, notes, and what it pushed. */
export interface TurnAnswer {
  outcome: TurnOutcome
  /** The session's issue (a comment on kugetsu's pull request continues its issue's session). */
  sessionRef: string
  restoredKey: string | undefined
  notes: string[]
  work: WorkReport
}

/** The answer of a finished turn: the comment, the step's outputs and the job summary. */
export async function publishTurn(
  request: TurnRequest,
  answer: TurnAnswer,
  context: RunContext
): Promise<void> {
  const { outcome, restoredKey, notes, work } = answer
  const ref = answer.sessionRef
  const durationMs = Date.now() - context.startedAt
  const { record, result } = outcome
  const facts = {
    ref,
    mode: outcome.mode,
    sessionId: record.sessionId ?? result.sessionId,
    turns: record.turns,
    tokensInput: result.tokens.input,
    tokensOutput: result.tokens.output,
    cost: result.cost,
    durationMs,
    runUrl: context.runUrl,
    notes,
    work
  }
  // Redacted before the reply is cut to fit a comment, which could leave half a key behind.
  const text = context.publish.redact(result.text)
  const comment = context.inputs.comment
    ? await answerOnIssue(request.ref.number, replyBody(text, facts), context)
    : undefined

  context.publish.setOutputs({
    skipped: 'false',
    'skip-reason': '',
    'issue-ref': ref,
    mode: outcome.mode,
    'session-id': facts.sessionId,
    'base-session-id': record.baseSessionId,
    response: text,
    'comment-id': comment?.id ?? '',
    'comment-url': comment?.url ?? '',
    'state-restored': restoredKey ? 'true' : 'false',
    'tokens-input': result.tokens.input,
    'tokens-output': result.tokens.output,
    cost: result.cost,
    branch: work.branch ?? '',
    commit: work.commit ?? '',
    'pull-request-url': work.pullRequest?.url ?? '',
    'pull-request-number': work.pullRequest?.number ?? ''
  })
  core.summary
    .addHeading(`kugetsu: ${outcome.mode === 'start' ? 'started' : 'continued'} ${ref}`, 3)
    .addRaw(
      summaryTable([
        ['Session', facts.sessionId],
        ['Base session', record.baseSessionId],
        ['Turn', String(record.turns)],
        ['State', restoredKey ? `restored from ${restoredKey}` : 'new'],
        ['Tokens', `${result.tokens.input} in / ${result.tokens.output} out`],
        ['Cost', formatCost(result.cost)],
        ['Duration', formatDuration(durationMs)],
        ...workRows(work),
        ['Comment', comment?.url ?? '(not posted)']
      ]),
      true
    )
    .addRaw(notes.map((note) => `\n${noteBlock(note)}\n`).join(''), true)
    .addHeading('Response', 4)
    .addRaw(`\n${text}\n`, true)
  await context.publish.writeSummary()
}
