import type { IssueInfo } from '../github/event.js'
import { NOTE_BLOCKS, isCommandReply, isKugetsuComment } from './report.js'
import { characterCount, sanitizeText } from './sanitize.js'
import { untrustedBlock, type Frame } from './untrusted.js'
import { isTrackingComment } from '../github/tracking.js'

/**
 * Memory rebuilt from the issue thread when an issue's saved session is gone (Actions cache
 * entries unused for 7 days are evicted, and a full cache evicts the oldest). The new session is
 * forked from the base like a first turn, but is given the conversation so far so it can go on
 * from where the lost one was.
 */

export const DEFAULT_THREAD_BUDGET = 30_000

/** The line kugetsu puts in its reply when it answered from a rebuilt memory. */
export const MEMORY_REBUILT_NOTE =
  "kugetsu lost this issue's saved session (Actions cache entries expire after 7 days unused) and rebuilt its memory from the thread."

export interface ThreadComment {
  id: number
  author: string
  /** `user.type` ('User', 'Bot', ...), when known. */
  authorType?: string
  body: string
  createdAt: string
  /** When it was last edited (the API's updated_at), when known. */
  updatedAt?: string
}

export interface ThreadOptions {
  /** Comments left out: the triggering comment (it is the message), this run's own comments. */
  excludeIds?: number[]
  /** Most characters of context; the newest comments are kept whole. Default 30,000. */
  budget?: number
  /**
   * Logins kugetsu posts as, when that is not a bot (a personal access token). Comments carrying
   * the marker count as kugetsu's only from a bot or one of these.
   */
  kugetsuLogins?: string[]
  /**
   * Whether a login has at least `min-permission`, as looked up before; undefined (not looked up,
   * or the lookup failed) counts as untrusted.
   */
  trustOf?: (login: string) => boolean | undefined
}

export interface RebuiltThread {
  /** Whether kugetsu had replied on the issue before: a lost session, not a new issue. */
  hadEarlierReplies: boolean
  context: string
  includedComments: number
  omittedComments: number
}

/** Comments as `GET /repos/{o}/{r}/issues/{n}/comments` returns them. */
export function threadCommentsFromApi(
  data: {
    id: number
    body?: string | null
    created_at: string
    updated_at?: string
    user?: { login: string; type?: string } | null
  }[]
): ThreadComment[] {
  return data.map((comment) => ({
    id: comment.id,
    author: comment.user?.login ?? 'ghost',
    authorType: comment.user?.type,
    body: comment.body ?? '',
    createdAt: comment.created_at,
    updatedAt: comment.updated_at
  }))
}

const FOOTER = /\n*(?:---\n)?<sub>kugetsu · [^\n]*<\/sub>\s*$/

/**
 * A marker is only trusted from kugetsu's own account: anyone can type one, and a comment shown
 * as kugetsu's would put their words in the agent's mouth.
 */
export function isOwn(comment: ThreadComment, kugetsuLogins: string[] = []): boolean {
  if (!isKugetsuComment(comment.body)) return false
  const login = comment.author.toLowerCase()
  return (
    comment.authorType?.toLowerCase() === 'bot' ||
    login.endsWith('[bot]') ||
    kugetsuLogins.some((own) => own.toLowerCase() === login)
  )
}

/**
 * A comment as the agent reads it, in its block. kugetsu's own replies are the agent's earlier
 * words, but they may quote anyone, so they are framed too (with no author to trust).
 */
export function commentBlock(
  comment: ThreadComment,
  own: boolean,
  frame: Frame,
  trusted: boolean
): string {
  // Sanitising removes the marker (an HTML comment); then the footer line can go.
  let text = sanitizeText(comment.body)
  if (own) text = text.replace(FOOTER, '').replace(NOTE_BLOCKS, '')
  const body = text.trim() || '(empty)'
  if (own) return untrustedBlock(frame, { source: 'kugetsu-reply', date: comment.createdAt }, body)
  const info = { source: 'comment', author: comment.author, date: comment.createdAt, trusted }
  return untrustedBlock(frame, info, body)
}

/** Text cut to `room` characters, saying so. */
export function cutTo(text: string, room: number): string {
  return characterCount(text) > room ? `${Array.from(text).slice(0, room).join('')}\n…(cut)` : text
}

function openingPost(
  issue: Pick<IssueInfo, 'title' | 'body' | 'author'>,
  room: number,
  frame: Frame,
  trusted: boolean
): string {
  const from = { author: issue.author, trusted }
  const body = cutTo(sanitizeText(issue.body).trim() || '(no description)', room)
  return [
    `@${issue.author} opened the issue, titled:`,
    untrustedBlock(frame, { source: 'issue-title', ...from }, issue.title),
    'with the description:',
    untrustedBlock(frame, { source: 'issue-body', ...from }, body)
  ].join('\n')
}

const SEPARATOR = '\n\n'

const omissionNote = (count: number) =>
  `(${count} earlier comment${count === 1 ? '' : 's'} left out to save space)`

/** Index of the oldest entry such that it and all newer ones fit in `room`. */
export function firstThatFits(sizes: number[], room: number): number {
  let first = sizes.length
  while (first > 0 && sizes[first - 1] <= room) {
    room -= sizes[first - 1]
    first -= 1
  }
  return first
}

/**
 * The thread as context for the first turn of a rebuilt session: the opening post, then the
 * comments oldest first with kugetsu's own replies as `kugetsu`, all sanitised. Within `budget`
 * characters the newest comments are kept whole; older ones are left out, and counted.
 */
export function rebuildThread(
  issue: Pick<IssueInfo, 'title' | 'body' | 'author'>,
  comments: ThreadComment[],
  frame: Frame,
  options: ThreadOptions = {}
): RebuiltThread {
  const trusted = (login: string) => options.trustOf?.(login) === true
  const budget = options.budget ?? DEFAULT_THREAD_BUDGET
  const excluded = new Set(options.excludeIds ?? [])
  const kugetsuLogins = options.kugetsuLogins ?? []
  const thread = [...comments]
    .filter(
      (comment) =>
        !excluded.has(comment.id) &&
        !isTrackingComment(comment.body) &&
        !isCommandReply(comment.body)
    )
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id - b.id)
  const entries = thread.map((comment) => {
    const own = isOwn(comment, kugetsuLogins)
    return { own, text: commentBlock(comment, own, frame, trusted(comment.author)) }
  })

  // The opening post gets at most half the budget, so a long description never crowds out the
  // latest exchanges.
  const opening = openingPost(issue, Math.floor(budget / 2), frame, trusted(issue.author))
  const sizes = entries.map((entry) => characterCount(entry.text) + SEPARATOR.length)
  const room = budget - characterCount(opening)
  const noteRoom = characterCount(omissionNote(entries.length)) + SEPARATOR.length
  let first = firstThatFits(sizes, room)
  // The note saying what was left out needs room too.
  if (first > 0) first = firstThatFits(sizes, room - noteRoom)
  const parts = [opening]
  if (first > 0) parts.push(omissionNote(first))
  parts.push(...entries.slice(first).map((entry) => entry.text))
  return {
    hadEarlierReplies: entries.some((entry) => entry.own),
    context: parts.join(SEPARATOR),
    includedComments: entries.length - first,
    omittedComments: first
  }
}

/**
 * What the first turn of a session rebuilt from the thread is told, in place of the bare issue.
 */
export function rebuiltSection(ref: string, issue: IssueInfo, thread: RebuiltThread): string {
  const kind = issue.isPullRequest ? 'pull request' : 'issue'
  return [
    `You are now working on GitHub ${kind} ${ref}.`,
    `URL: ${issue.url}`,
    '',
    `You worked on this ${kind} before, but that session was lost. The conversation so far, oldest first (your own earlier replies have source="kugetsu-reply"):`,
    '',
    thread.context
  ].join('\n')
}
