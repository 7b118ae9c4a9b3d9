/**
 * What both drivers refuse before opencode sees it: a request no driver can run, a session id
 * that is not one.
 */
import { KugetsuError } from '../errors.js'
import type { RunRequest } from './types.js'

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

export function checkSessionId(sessionId: string): void {
  if (!SESSION_ID.test(sessionId)) {
    throw new KugetsuError(
      'invalid-input',
      `not an opencode session id: ${JSON.stringify(sessionId)}`
    )
  }
}

/**
 * Refuses a request no driver can run: an empty message, a NUL in it (opencode reads it as text),
 * a session id that is not one, a fork without the session to fork.
 */
export function checkRunRequest(request: RunRequest): void {
  if (!request.message.trim()) {
    throw new KugetsuError('invalid-input', 'the message for opencode is empty')
  }
  if (request.message.includes('\0')) {
    throw new KugetsuError('invalid-input', 'the message for opencode contains a NUL character')
  }
  if (request.sessionId !== undefined) checkSessionId(request.sessionId)
  if (request.fork && !request.sessionId) {
    throw new KugetsuError('invalid-input', 'forking needs the session id to fork')
  }
}
