/** A failed run: the step fails, the summary says why, and the issue gets the failure comment. */
import * as core from '@actions/core'
import { errorMessage, isKugetsuError } from '../../errors.js'
import { formatIssueRef } from '../../refs.js'
import type { ActionRequest } from '../github/event.js'
import { IssueNotFoundError } from '../github/github.js'
import type { Publisher } from '../secrets/publish.js'
import { failureBody } from '../conversation/report.js'
import type { RunContext } from './context.js'
import { answerOnIssue } from './reply.js'
import { failedStage } from './stage.js'
import { stopSignal } from './workspace.js'

export async function reportFailure(
  error: unknown,
  request: ActionRequest | undefined,
  context: RunContext | undefined,
  publish: Publisher
): Promise<void> {
  const signal = stopSignal()
  if (signal) {
    core.info(`Stopped by ${signal}: ${errorMessage(error)}`)
    return
  }
  let message = errorMessage(error)
  const timeoutMs = context?.inputs.timeoutMs
  if (request?.kind === 'turn' && isKugetsuError(error, 'timeout') && timeoutMs) {
    const limit = `${Number((timeoutMs / 60_000).toFixed(2))} min`
    message = `the agent did not finish within timeout-minutes (${limit}) and was stopped; ${formatIssueRef(request.ref)} keeps the session it had before this run`
  }
  if (request?.kind === 'turn' && isKugetsuError(error, 'corrupt-state')) {
    const ref = formatIssueRef(request.ref)
    message += ` (to start ${ref} over, run kugetsu with command: destroy and issue-ref: ${request.ref.number})`
  }
  const stage = failedStage(error)
  core.setFailed(message)
  if (stage) core.info(`The turn failed while ${stage}.`)
  const what = request?.kind === 'turn' ? ` on ${formatIssueRef(request.ref)}` : ''
  const during = stage ? ` while ${stage}` : ''
  core.summary.addHeading(`kugetsu failed${what}${during}`, 3).addRaw(`\n${message}\n`, true)
  await publish.writeSummary().catch(() => undefined)
  if (!failureGoesOnTheIssue(error, request, context)) return
  try {
    if (request?.kind !== 'turn' || !context) return
    await answerOnIssue(
      request.ref.number,
      failureBody(formatIssueRef(request.ref), message, context.runUrl, stage),
      context
    )
  } catch (commentError) {
    core.warning(`could not post the failure comment: ${errorMessage(commentError)}`)
  }
}

/**
 * The one place that decides whether a failure is posted on the issue: a comment's turn, with
 * comments on, on an issue that exists. Whoever ran a manual run sees its error in the run: its
 * "working on it" comment, if it posted one, is told the failure, but no comment is added.
 */
function failureGoesOnTheIssue(
  error: unknown,
  request: ActionRequest | undefined,
  context: RunContext | undefined
): boolean {
  if (!context?.inputs.comment || request?.kind !== 'turn') return false
  if (request.source !== 'comment' && !context.tracking) return false
  return !(error instanceof IssueNotFoundError)
}
