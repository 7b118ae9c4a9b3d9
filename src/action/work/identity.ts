/** Who kugetsu's commits are by: the token's bot, with the e-mail address its forge gives it. */
import { isGiteaFamily, type Forge } from '../github/forge.js'
import type { Identity } from './publish.js'

/** The workflow token's user on github.com (and GHES): github-actions[bot], id 41898282. */
export const ACTIONS_BOT_IDENTITY: Identity = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com'
}

/** The no-reply address of a user on `host` (GitHub's form; github.com and GHES alike). */
export function noreplyEmail(host: string, login: string, id: number): string {
  const domain = host === 'github.com' ? 'users.noreply.github.com' : `users.noreply.${host}`
  return `${id}+${login}@${domain}`
}

/**
 * The identity commits are made as, from who the token acts as (`GET /user`; undefined when the
 * API will not say). On Gitea and Forgejo the job token acts as their Actions user (id -2, so no
 * `id+login` address): its login with the address the API shows, else the instance's no-reply
 * form. On GitHub an installation token cannot ask, and commits as github-actions[bot].
 */
export function committerIdentity(
  forge: Forge,
  host: string,
  user: { login: string; id: number; email?: string } | undefined
): Identity {
  if (isGiteaFamily(forge)) {
    const login = user?.login || (forge === 'forgejo' ? 'forgejo-actions' : 'gitea-actions')
    const hostname = host.replace(/:\d+$/, '')
    const email = user?.email && /^[^\s@<>]+@[^\s@<>]+$/.test(user.email) ? user.email : undefined
    return { name: login, email: email ?? `${login.toLowerCase()}@noreply.${hostname}` }
  }
  if (!user) return ACTIONS_BOT_IDENTITY
  return { name: user.login, email: noreplyEmail(host, user.login, user.id) }
}
