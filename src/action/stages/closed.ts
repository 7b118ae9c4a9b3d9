/**
 * A closed issue: its session is forgotten (a tombstone, then its older entries deleted where the
 * caches REST API exists) only when whoever closed it passes the gate a request must pass.
 */
import * as core from '@actions/core'
import { KugetsuError } from '../../errors.js'
import { formatIssueRef } from '../../refs.js'
import { quoted } from '../github/authorize.js'
import type { ActionRequest } from '../github/event.js'
import { destroySessions, type SessionsContext } from '../sessions/sessions.js'
import type { RunContext } from './context.js'
import { forgetIssue } from './forget.js'
import { authorizePerson } from './gate.js'

type ClosedRequest = Extract<ActionRequest, { kind: 'closed' }>

export async function handleClosed(
  request: ClosedRequest,
  context: RunContext,
  sessions: SessionsContext
): Promise<void> {
  const ref = formatIssueRef(request.ref)
  const skip = (why: string) => {
    const reason = `${why}: the session of ${ref} is kept`
    core.info(`Skipped: ${reason}`)
    context.publish.setOutputs({ skipped: 'true', 'skip-reason': reason, 'issue-ref': ref })
  }
  // Closing is open to an issue's author whatever their permission: without this gate, anyone
  // who may open an issue could wipe the memory of the session on it.
  if (request.closedBy === '') return skip('the closed event names no sender')
  const decision = await authorizePerson(
    { login: request.closedBy, userType: request.closedByType },
    context
  )
  if (!decision.allowed) {
    if (decision.rule === 'lookup-failed') {
      throw new KugetsuError(
        'invalid-input',
        `${decision.reason}; the session of ${ref} was kept, nothing was changed`
      )
    }
    return skip(
      `closed by ${quoted(request.closedBy)}, who may not use kugetsu (${decision.reason})`
    )
  }
  const { key } = await forgetIssue(context, request.ref, 'closed', request.closedBy)
  await destroySessions(
    { ref: request.ref, tombstone: key },
    sessions,
    `${ref} was closed by ${request.closedBy}: forgot its session`
  )
}
