/**
 * A person's permission on the repository, as far as the job token may learn it: the permission
 * endpoint, or on Gitea and Forgejo (which refuse that endpoint to the job token) the list of
 * users with write access.
 */
import { KugetsuError, errorMessage } from '../../errors.js'
import { forgeName, isGiteaFamily, type Forge } from './forge.js'

/** What `GET /repos/{owner}/{repo}/collaborators/{user}/permission` answered. */
export type PermissionAnswer =
  /** 200: the permission as permissionFromResponse reads it. */
  | { kind: 'permission'; permission: string }
  /** 404: no such user, or (GitHub) not a collaborator. */
  | { kind: 'not-found' }
  /** 403: the forge will not tell this token (Gitea/Forgejo: only admins and the user may ask). */
  | { kind: 'refused'; message: string }

export interface AccessSource {
  permission(login: string): Promise<PermissionAnswer>
  /** Logins of the repository's assignees (on Gitea and Forgejo: the users with write access). */
  assignees(): Promise<string[]>
}

export interface AccessFinding {
  /** The permission found, or 'none'. */
  permission: string
  /**
   * Where it came from. `assignees`: the forge refused the permission endpoint, and the login is
   * (write) or is not (none) among the users with write access; nothing above write can be told.
   */
  via: 'permission' | 'assignees'
}

/**
 * The decision table. Permission endpoint 200: its answer; 404: none. 403 on Gitea or Forgejo:
 * the assignees list (Gitea's `GetRepoAssignees`: the users whose access is write or more, team
 * members included), because the other things the job token can see do not say who may write:
 * collaborator membership (204/404) admits read-only collaborators and misses team members, and
 * a payload's `repository.permissions` belong to the commenter in `issue_comment`, the issue's
 * author in `issues`, and are all false in `workflow_dispatch`. 403 elsewhere, or a failing
 * assignees list: an error, which the caller turns into a refusal.
 */
export async function findAccess(
  login: string,
  source: AccessSource,
  forge: Forge
): Promise<AccessFinding> {
  const answer = await source.permission(login)
  if (answer.kind === 'permission') return { permission: answer.permission, via: 'permission' }
  if (answer.kind === 'not-found') return { permission: 'none', via: 'permission' }
  if (!isGiteaFamily(forge)) {
    throw new KugetsuError(
      'permission-refused',
      `${forgeName(forge)} refused the permission lookup (403 ${answer.message.slice(0, 120)}); github-token must be able to read the repository's collaborators`
    )
  }
  let assignees: string[]
  try {
    assignees = await source.assignees()
  } catch (error) {
    throw new KugetsuError(
      'permission-refused',
      `${forgeName(forge)} refused the permission lookup to the job token, and the repository's assignees (the users with write access) could not be listed either (${errorMessage(error)}); list who may trigger kugetsu in allowed-users`,
      { cause: error }
    )
  }
  const wanted = login.toLowerCase()
  const writer = assignees.some((assignee) => assignee.toLowerCase() === wanted)
  return { permission: writer ? 'write' : 'none', via: 'assignees' }
}
