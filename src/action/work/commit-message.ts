/**
 * The message of the commit kugetsu makes from a turn's changes: a subject from the request, who
 * asked and where, and a `Co-authored-by:` trailer crediting them. The request and the login are
 * written by others, so nothing of theirs can reach the trailer block or add a line to it.
 */
import { sanitizeText } from '../conversation/sanitize.js'

export interface CommitMessageInput {
  request: string
  issueNumber: number
  turn: number
  author: { login: string; id?: number }
  commentUrl?: string
  /** The forge's host, for the no-reply address; github.com when absent. */
  host?: string
}

const MAX_SUBJECT = 72
/** Everything a reader could take for a line break; only the first line is ever used. */
const LINE_BREAK = /[\n\r\v\f\u0085\u2028\u2029]/
/**
 * GitHub logins are letters, digits and single hyphens (at most 39); Forgejo and Gitea also allow
 * `.` and `_`, never at either end (at most 40). Apps comment as `name[bot]`.
 */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38}[A-Za-z0-9])?(?:\[bot\])?$/
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/

/** The request's first non-empty line as plain text: no markup, controls or invisible characters. */
function plainFirstLine(request: string): string {
  for (const raw of request.split(LINE_BREAK)) {
    const line = sanitizeText(raw)
      .replace(/\s+/g, ' ')
      .replace(/^\s*(?:>\s*)*(?:#{1,6}\s+|[-*+]\s+|\d{1,9}[.)]\s+)?(?:\[[ xX]\]\s+)?/, '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<\/?[A-Za-z][^<>]*>/g, '')
      .replace(/`+|\*\*|__|~~/g, '')
      .replace(/(^|[^\p{L}\p{N}])[*_](?=\S)(.*?\S)[*_](?![\p{L}\p{N}])/gu, '$1$2')
      .replace(/^[\s#>*_-]+$/, '')
      .replace(/\s+/g, ' ')
      .trim()
    if (line !== '') return line
  }
  return ''
}

function cut(text: string, limit: number): string {
  const characters = Array.from(text)
  if (characters.length <= limit) return text
  return `${characters
    .slice(0, limit - 1)
    .join('')
    .trimEnd()}…`
}

/** The no-reply address domain: GitHub's, or Gitea's and Forgejo's default `noreply.<host>`. */
function noReplyDomain(host: string | undefined): string {
  const name = (host ?? '').toLowerCase().replace(/:\d{1,5}$/, '')
  if (name === '' || name === 'github.com' || !HOSTNAME.test(name)) {
    return 'users.noreply.github.com'
  }
  return `noreply.${name}`
}

/**
 * `Co-authored-by: login <address>` with the account's no-reply address (`id+login@...` when the
 * id is known, as GitHub links it to the account); undefined for a login that is not one.
 */
export function coAuthorTrailer(
  author: { login: string; id?: number },
  host?: string
): string | undefined {
  const { login, id } = author
  if (typeof login !== 'string' || !LOGIN.test(login) || /[._-]{2}/.test(login)) return undefined
  const domain = noReplyDomain(host)
  const github = domain === 'users.noreply.github.com'
  const withId = github && typeof id === 'number' && Number.isSafeInteger(id) && id > 0
  return `Co-authored-by: ${login} <${withId ? `${id}+` : ''}${login}@${domain}>`
}

/** The comment's address when it is a plain http(s) URL; anything else is left out. */
function plainUrl(url: string | undefined): string | undefined {
  if (url === undefined || url.length > 500 || !/^[\x21-\x7e]+$/.test(url)) return undefined
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? url : undefined
  } catch {
    return undefined
  }
}

export function commitMessage(input: CommitMessageInput): string {
  const { issueNumber, turn } = input
  const subject =
    cut(plainFirstLine(input.request), MAX_SUBJECT) || `Work on #${issueNumber} (turn ${turn})`
  const trailer = coAuthorTrailer(input.author, input.host)
  const who = trailer ? `@${input.author.login}` : 'an account whose login kugetsu cannot quote'
  const url = plainUrl(input.commentUrl)
  const asked = url
    ? `Asked by ${who} in ${url} (#${issueNumber}, turn ${turn}).`
    : `Asked by ${who} on #${issueNumber} (turn ${turn}).`
  return [subject, '', asked, ...(trailer ? ['', trailer] : []), ''].join('\n')
}
