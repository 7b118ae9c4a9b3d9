/**
 * Which forge runs the workflow (github.com, GitHub Enterprise Server, Gitea, Forgejo), told by
 * the runner's environment, and what that changes in how kugetsu talks to it.
 */

export const FORGES = ['github', 'ghes', 'gitea', 'forgejo'] as const
export type Forge = (typeof FORGES)[number]

/**
 * Forgejo's runner sets both FORGEJO_ACTIONS and GITEA_ACTIONS (it descends from Gitea's), so
 * Forgejo is asked first. Without either, github.com (and its `*.ghe.com` data-residency
 * instances) is GitHub's cloud and any other server is GitHub Enterprise Server.
 */
export function detectForge(env: NodeJS.ProcessEnv): Forge {
  if (env.FORGEJO_ACTIONS === 'true') return 'forgejo'
  if (env.GITEA_ACTIONS === 'true') return 'gitea'
  let host = 'github.com'
  try {
    host = new URL(env.GITHUB_SERVER_URL || 'https://github.com').hostname.toLowerCase()
  } catch {
    // An unparsable server URL is refused later, where the repository context is built.
  }
  return host === 'github.com' || host.endsWith('.ghe.com') ? 'github' : 'ghes'
}

/** Gitea and Forgejo (one API family). */
export function isGiteaFamily(forge: Forge): boolean {
  return forge === 'gitea' || forge === 'forgejo'
}

/**
 * Whether the forge has the caches REST API that `list`, `prune` and `destroy` read and delete
 * entries with: github.com always; GitHub Enterprise Server maybe (a release without it answers
 * 404); Gitea and Forgejo have none, so they are not asked. Where it is not always there, runs keep
 * a session index in the cache instead.
 */
export function cachesRestApi(forge: Forge): 'always' | 'maybe' | 'none' {
  if (forge === 'github') return 'always'
  return isGiteaFamily(forge) ? 'none' : 'maybe'
}

/**
 * Who the job token posts as, where that is not told by a `[bot]` login or a Bot user type:
 * Gitea's and Forgejo's Actions users (their API shows no user type). kugetsu's own comments
 * are recognised by these logins.
 */
export function actionsLogins(forge: Forge): string[] {
  if (forge === 'gitea') return ['gitea-actions']
  if (forge === 'forgejo') return ['forgejo-actions']
  return []
}

/** The forge's name as a person reads it, for messages. */
export function forgeName(forge: Forge): string {
  return { github: 'GitHub', ghes: 'GitHub Enterprise Server', gitea: 'Gitea', forgejo: 'Forgejo' }[
    forge
  ]
}

/**
 * A login as the forge allows it. GitHub: letters, digits and hyphens, at most 39 (lenient about
 * legacy hyphen runs), an app's `[bot]` suffix. Gitea and Forgejo also allow `.` and `_` inside
 * a name of at most 40 (their username rule), so `jane.doe` is a person there.
 */
const GITHUB_LOGIN = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:\[bot\])?$/
const GITEA_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38}[A-Za-z0-9])?$/

export function isValidLogin(login: string, forge: Forge = 'github'): boolean {
  if (!isGiteaFamily(forge)) return GITHUB_LOGIN.test(login)
  // Gitea refuses consecutive special characters in a name.
  return GITEA_LOGIN.test(login) && !/[._-]{2}/.test(login)
}

/** The rule, said for an error message. */
export function loginRule(forge: Forge = 'github'): string {
  return isGiteaFamily(forge)
    ? 'a login is 1-40 letters, digits, dots, hyphens or underscores, starting and ending with a letter or digit'
    : 'a login is 1-39 letters, digits or hyphens, optionally ending in [bot]'
}

/**
 * The link to a run's page. GitHub addresses runs by id (and a re-run by its attempt); Gitea and
 * Forgejo by the run's number in the repository (GITHUB_RUN_NUMBER), with no attempts.
 */
export function runUrl(
  forge: Forge,
  run: {
    serverUrl: string
    repository: string
    runId?: string
    runNumber?: string
    attempt?: string
  }
): string {
  const server = run.serverUrl.replace(/\/+$/, '')
  if (!server || !run.repository) return ''
  if (isGiteaFamily(forge)) {
    return run.runNumber ? `${server}/${run.repository}/actions/runs/${run.runNumber}` : ''
  }
  if (!run.runId) return ''
  const attempt = run.attempt && run.attempt !== '1' ? `/attempts/${run.attempt}` : ''
  return `${server}/${run.repository}/actions/runs/${run.runId}${attempt}`
}
