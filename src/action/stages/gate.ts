/**
 * The one gate every person passes before kugetsu acts for them: a request, a command, a close.
 * See authorize.ts for the rules. Spends one API call at most (two where the forge refuses the
 * permission endpoint to the job token; see access.ts).
 */
import { findAccess } from '../github/access.js'
import { authorize, type Authorization } from '../github/authorize.js'
import type { RunContext } from './context.js'

export interface Person {
  login: string
  /** `user.type` ('User', 'Bot', ...), as the payload tells. */
  userType: string
  /** The comment that asked, when one did (a comment carrying kugetsu's marker is refused). */
  commentBody?: string
}

export function authorizePerson(person: Person, context: RunContext): Promise<Authorization> {
  const { inputs, github, runner } = context
  return authorize({
    login: person.login,
    userType: person.userType,
    commentBody: person.commentBody,
    minPermission: inputs.minPermission,
    allowedUsers: inputs.allowedUsers,
    allowedBots: inputs.allowedBots,
    forge: runner.forge,
    permissionOf: (login) => findAccess(login, github, runner.forge)
  })
}
