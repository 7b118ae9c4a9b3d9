/** Who kugetsu's commits are by: the token's bot, with the e-mail address its forge gives it. */
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
