/**
 * `reset`: the issue's session is forgotten (a tombstone, see forget.ts); the next request starts
 * a fresh fork from the base and is not given the thread before now. Nothing is deleted, so the
 * old entries age out of the cache by themselves.
 */
import { formatIssueRef, parseIssueRef } from '../../refs.js'
import type { RunContext, TurnRequest } from '../stages/context.js'
import { forgetIssue } from '../stages/forget.js'
import { planTurnWork } from '../stages/work.js'

export async function resetText(request: TurnRequest, context: RunContext): Promise<string> {
  // a comment on kugetsu's own pull request resets the session of the issue it works for
  const plan = request.issue
    ? await planTurnWork(request, request.issue, context)
    : { sessionNumber: request.ref.number }
  const ref = parseIssueRef(`#${plan.sessionNumber}`, context.repo)
  const { key } = await forgetIssue(context, ref, 'reset', request.author)
  return [
    `**kugetsu reset** of ${formatIssueRef(ref)}`,
    '',
    `The session is forgotten: the next request starts a new one from the base session, without this conversation so far. Its turns and spending start again from zero; the branch and any pull request stay as they are.`,
    '',
    `<sub>tombstone \`${key}\`</sub>`
  ].join('\n')
}
