import { KugetsuError, errorMessage } from '../../errors.js'
import { isKugetsuComment } from '../conversation/report.js'
import type { AccessFinding } from './access.js'
import { forgeName, isValidLogin, loginRule, type Forge } from './forge.js'

/**
 * Whether the person (or bot) behind a trigger may run the agent, decided before any heavy work.
 * On a public repository anyone can comment, and a run spends the repository's model budget and
 * acts with its token, so by default only people with write access may trigger one.
 *
 * The rules, in order:
 * 1. A comment carrying kugetsu's hidden marker never triggers, whoever posted it: kugetsu's own
 *    replies may quote `/kugetsu`, and answering them would loop.
 * 2. Bots (user type Bot, or a login ending in `[bot]`) are refused unless listed in
 *    `allowed-bots` (case-insensitive, with or without the `[bot]` suffix); a listed bot is
 *    admitted without a permission check (apps are not collaborators).
 * 3. Users listed in `allowed-users` (case-insensitive) are admitted whatever their permission.
 * 4. Everyone else needs a repository permission at least `min-permission` (default write).
 *    A failed lookup refuses: the decision fails closed, and says why. (On a public repository
 *    `read` may admit anyone who can comment; triage or higher keeps it to people you chose.)
 *    Where the forge refuses the permission endpoint to the job token (Gitea, Forgejo), the
 *    permission is write or none by the repository's assignees (access.ts): write is then all
 *    that can be proved, and a refusal says to use allowed-users.
 */

export const PERMISSIONS = ['read', 'triage', 'write', 'maintain', 'admin'] as const
export type Permission = (typeof PERMISSIONS)[number]
export const DEFAULT_MIN_PERMISSION: Permission = 'write'

export interface AuthorizeInput {
  login: string
  /** `user.type` of the comment author or sender: 'User', 'Bot', 'Organization', ... */
  userType: string
  /** The trigger comment's body; absent for a manual run. */
  commentBody?: string
  minPermission?: Permission
  allowedUsers?: readonly string[]
  allowedBots?: readonly string[]
  /**
   * The login's permission on the repository (see permissionFromResponse), or undefined when
   * GitHub answers 404 (not a collaborator), or a finding that says where it came from (see
   * access.ts). Only called when the rules above do not decide.
   */
  permissionOf: (login: string) => Promise<string | undefined | AccessFinding>
  /** The forge, for its login rules and its name in messages (default github). */
  forge?: Forge
}

/** Which rule decided; for logs and tests. */
export type AuthorizeRule =
  | 'marker'
  | 'invalid-login'
  | 'bot'
  | 'allowed-bot'
  | 'allowed-user'
  | 'permission'
  | 'lookup-failed'

export type Authorization =
  | { allowed: true; reason: string; rule: AuthorizeRule }
  | { allowed: false; reason: string; rule: AuthorizeRule }

const BOT_SUFFIX = /\[bot\]$/i
/** The marker with any spacing or case, so a hand-typed variant also counts. */
const MARKER_LOOSE = /<!--\s*kugetsu:/i

const rank = (permission: string): number => PERMISSIONS.indexOf(permission as Permission)
const bare = (login: string) => login.trim().replace(BOT_SUFFIX, '').toLowerCase()
const listed = (list: readonly string[] | undefined, login: string) =>
  (list ?? []).some((entry) => bare(entry) === bare(login))
/**
 * Untrusted text quoted in a one-line message: JSON-quoted, with format, control and other
 * invisible characters also escaped, so a bidi override cannot reorder the log line.
 */
export function quoted(text: string, max = 60): string {
  return JSON.stringify(text.slice(0, max)).replace(
    /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu,
    (c) => {
      const code = c.codePointAt(0) as number
      return code > 0xffff
        ? `\\u{${code.toString(16)}}`
        : `\\u${code.toString(16).padStart(4, '0')}`
    }
  )
}
const shown = (login: string) => quoted(login)

export function isBot(login: string, userType: string): boolean {
  return userType.toLowerCase() === 'bot' || BOT_SUFFIX.test(login.trim())
}

/**
 * The permission in a `GET /repos/{owner}/{repo}/collaborators/{username}/permission` answer.
 * `role_name` is preferred when it is one of the five roles, because `permission` reports
 * maintain as write and triage as read; a custom role falls back to `permission`. Gitea and
 * Forgejo call the repository owner's access `owner`: admin here. Anything unrecognised is 'none'.
 */
export function permissionFromResponse(data: unknown): Permission | 'none' {
  const record = (data ?? {}) as { permission?: unknown; role_name?: unknown }
  for (const value of [record.role_name, record.permission]) {
    const name = typeof value === 'string' ? value.trim().toLowerCase() : ''
    if (name === 'owner') return 'admin'
    if (rank(name) >= 0) return name as Permission
  }
  return 'none'
}

function refuse(rule: AuthorizeRule, reason: string): Authorization {
  return { allowed: false, reason, rule }
}

function admit(rule: AuthorizeRule, reason: string): Authorization {
  return { allowed: true, reason, rule }
}

/**
 * Decides by the rules in the module comment. Never throws for anything about the commenter
 * (a failed permission lookup refuses); throws KugetsuError 'invalid-input' only for a
 * minPermission that is not one of PERMISSIONS.
 */
export async function authorize(input: AuthorizeInput): Promise<Authorization> {
  const body = input.commentBody ?? ''
  if (isKugetsuComment(body) || MARKER_LOOSE.test(body)) {
    return refuse(
      'marker',
      'the comment carries kugetsu\u2019s marker (kugetsu never answers itself)'
    )
  }

  const login = input.login.trim()
  const forge = input.forge ?? 'github'
  if (!isValidLogin(login, forge)) {
    return refuse(
      'invalid-login',
      `the author ${shown(login)} is not a valid ${forgeName(forge)} login`
    )
  }

  if (isBot(login, input.userType)) {
    if (listed(input.allowedBots, login)) {
      return admit('allowed-bot', `the bot ${login} is in allowed-bots`)
    }
    const hint = listed(input.allowedUsers, login)
      ? ' (bots go in allowed-bots, not allowed-users)'
      : ''
    return refuse('bot', `the bot ${login} is not in allowed-bots${hint}`)
  }

  if (listed(input.allowedUsers, login)) {
    return admit('allowed-user', `${login} is in allowed-users`)
  }

  // Checked again here: an unknown minimum would rank below every permission and admit anyone.
  const needed = parseMinPermission(input.minPermission ?? '')
  let found: string | undefined | AccessFinding
  try {
    found = await input.permissionOf(login)
  } catch (error) {
    return refuse(
      'lookup-failed',
      `could not look up ${login}\u2019s permission on the repository (${errorMessage(error)})`
    )
  }
  if (typeof found === 'object' && found.via === 'assignees') {
    return byAssignees(login, found.permission, needed, forge)
  }
  const permission = (typeof found === 'object' ? found.permission : (found ?? 'none'))
    .trim()
    .toLowerCase()
  if (rank(permission) >= rank(needed)) {
    return admit('permission', `${login} has ${permission} permission (${needed} needed)`)
  }
  const has =
    rank(permission) >= 0
      ? `has only ${permission} permission`
      : permission === 'none' || permission === ''
        ? 'has no permission on the repository'
        : `has an unrecognised permission ${shown(permission)}`
  return refuse('permission', `${login} ${has}; ${needed} or higher is needed`)
}

/**
 * The decision when the forge told the job token only whether the login may write (it is among
 * the repository's assignees): write or below is decided; above write cannot be proved.
 */
function byAssignees(
  login: string,
  permission: string,
  needed: Permission,
  forge: Forge
): Authorization {
  const why = `${forgeName(forge)} does not tell the job token anyone\u2019s permission, only who may write (the repository\u2019s assignees)`
  if (rank(needed) > rank('write')) {
    return refuse(
      'permission',
      `${login}\u2019s ${needed} permission cannot be checked: ${why}; list who may trigger kugetsu in allowed-users, or set min-permission to write`
    )
  }
  if (permission === 'write') {
    return admit(
      'permission',
      `${login} has write access (among the repository\u2019s assignees; ${needed} needed)`
    )
  }
  return refuse(
    'permission',
    `${login} is not among the users with write access to the repository (${why}); to let them trigger kugetsu, give them write access or list them in allowed-users`
  )
}

/**
 * A list of logins from an input such as `allowed-users`: separated by commas and/or newlines,
 * each trimmed, empty entries dropped, a leading `@` dropped, duplicates (ignoring case) dropped.
 * Refuses anything that is not a GitHub login, naming the first bad entry.
 */
export function parseLoginList(
  text: string,
  inputName = 'allowed-users',
  forge: Forge = 'github'
): string[] {
  const logins: string[] = []
  const seen = new Set<string>()
  for (const raw of text.split(/[,\r\n]/)) {
    const entry = raw.trim().replace(/^@/, '')
    if (entry === '') continue
    if (!isValidLogin(entry, forge) && !isValidLogin(entry.replace(BOT_SUFFIX, ''), forge)) {
      const why = /\s/.test(entry) ? 'separate logins with commas or newlines' : loginRule(forge)
      throw new KugetsuError(
        'invalid-input',
        `${inputName} has an entry that is not a ${forgeName(forge)} login: ${quoted(entry)} (${why})`
      )
    }
    const key = entry.toLowerCase()
    if (seen.has(key)) continue
    seen.add(key)
    logins.push(entry)
  }
  return logins
}

/** The `min-permission` input; empty means the default (write). */
export function parseMinPermission(text: string, inputName = 'min-permission'): Permission {
  const value = text.trim().toLowerCase()
  if (value === '') return DEFAULT_MIN_PERMISSION
  if (rank(value) < 0) {
    throw new KugetsuError(
      'invalid-input',
      `${inputName} must be one of ${PERMISSIONS.join(', ')}; got ${quoted(text.trim(), 40)}`
    )
  }
  return value as Permission
}
