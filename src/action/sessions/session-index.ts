/**
 * The session index: what `list` shows of every issue, kept in a cache entry of its own so that a
 * forge without the caches REST API (Gitea, Forgejo) can list sessions. Read back field by field.
 */
import type { Forgetting } from '../../store/types.js'
import { checkForgetting } from './tombstone.js'

export const INDEX_FORMAT = 'kugetsu-index-v1'
/** Most issues an index holds: the least recently used are dropped first. */
export const MAX_INDEXED_ISSUES = 1000
/** Most characters of an index's text (a full index is about 200 KiB). */
export const MAX_INDEX_TEXT = 512 * 1024

export interface IndexedIssue {
  number: number
  /** Canonical `host/owner/repo#N`: always the ref of `number` in this repository. */
  ref: string
  /** '' when the session was forgotten. */
  sessionId: string
  turns: number
  /** ISO time of the last turn, destroy or close. */
  lastUsedAt: string
  /** The branch the session works on, if it has one. */
  branch?: string
  forgotten?: Forgetting
}

export interface SessionIndex {
  issues: IndexedIssue[]
}

export interface ParsedIndex extends SessionIndex {
  /** What was wrong with what was read (left out, the rest kept); empty for a clean index. */
  problems: string[]
}

const SESSION_ID = /^[A-Za-z0-9_]{1,128}$/
const BRANCH = /^(?!.*\.\.)(?!\/)[A-Za-z0-9._/-]{1,200}$/
/** A planted time far ahead would keep a fake entry at the top for ever. */
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000

function isTime(value: unknown, now: number): value is string {
  return (
    typeof value === 'string' &&
    value.length <= 40 &&
    /^\d{4}-\d\d-\d\dT/.test(value) &&
    !Number.isNaN(Date.parse(value)) &&
    Date.parse(value) <= now + FUTURE_SLACK_MS
  )
}

/** One issue of a read index, or what is wrong with it. */
function checkIssue(
  value: unknown,
  refOf: (issueNumber: number) => string,
  now: number
): IndexedIssue | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object'
  const { number, ref, sessionId, turns, lastUsedAt, branch, forgotten } = value as Record<
    string,
    unknown
  >
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
    return '"number" is not an issue number'
  }
  // An index names issues of this repository alone: a planted ref never reaches the output.
  if (ref !== refOf(number)) return `"ref" is not #${number} of this repository`
  if (typeof turns !== 'number' || !Number.isSafeInteger(turns) || turns < 0) {
    return '"turns" is not a count'
  }
  if (!isTime(lastUsedAt, now)) return '"lastUsedAt" is not a past time'
  if (branch !== undefined && (typeof branch !== 'string' || !BRANCH.test(branch))) {
    return '"branch" is not a branch name'
  }
  const issue: IndexedIssue = { number, ref, sessionId: '', turns, lastUsedAt }
  if (branch !== undefined) issue.branch = branch as string
  if (forgotten !== undefined) {
    const checked = checkForgetting(forgotten)
    if (typeof checked === 'string') return checked
    if (sessionId !== '') return 'a forgotten issue holds a session'
    issue.forgotten = checked
    return issue
  }
  if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) {
    return '"sessionId" is not a session id'
  }
  issue.sessionId = sessionId
  return issue
}

/**
 * The index in `text` (decoded already), checked field by field: a damaged or planted index is
 * read as far as it is sound, and what is not is said in `problems`, never thrown.
 */
export function parseSessionIndex(
  text: string,
  refOf: (issueNumber: number) => string,
  now = Date.now()
): ParsedIndex {
  if (text.length > MAX_INDEX_TEXT) return { issues: [], problems: ['the index is too large'] }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { issues: [], problems: ['the index is not JSON'] }
  }
  const { format, issues } = (value ?? {}) as Record<string, unknown>
  if (format !== INDEX_FORMAT || !Array.isArray(issues)) {
    return { issues: [], problems: [`the index is not in the ${INDEX_FORMAT} format`] }
  }
  const problems: string[] = []
  const byNumber = new Map<number, IndexedIssue>()
  for (const [position, item] of issues.slice(0, MAX_INDEXED_ISSUES).entries()) {
    const issue = checkIssue(item, refOf, now)
    if (typeof issue === 'string') {
      problems.push(`issue ${position + 1} left out: ${issue}`)
      continue
    }
    const known = byNumber.get(issue.number)
    if (!known || Date.parse(issue.lastUsedAt) > Date.parse(known.lastUsedAt)) {
      byNumber.set(issue.number, issue)
    }
  }
  if (issues.length > MAX_INDEXED_ISSUES) {
    problems.push(`${issues.length - MAX_INDEXED_ISSUES} issue(s) beyond the limit left out`)
  }
  return { issues: [...byNumber.values()].sort((a, b) => a.number - b.number), problems }
}

/**
 * The index with `change` in place of what it held for that issue. Bounded: beyond
 * MAX_INDEXED_ISSUES the least recently used are dropped, never `change`.
 */
export function withIssue(index: SessionIndex, change: IndexedIssue): SessionIndex {
  const others = index.issues
    .filter((issue) => issue.number !== change.number)
    .sort((a, b) => Date.parse(b.lastUsedAt) - Date.parse(a.lastUsedAt))
    .slice(0, MAX_INDEXED_ISSUES - 1)
  return { issues: [...others, change].sort((a, b) => a.number - b.number) }
}

export function serializeSessionIndex(index: SessionIndex): string {
  return JSON.stringify({ format: INDEX_FORMAT, issues: index.issues })
}

/** Issues the cache's own eviction removes: not used for `days` (7 on GitHub, Gitea, Forgejo). */
export function staleIssues(index: SessionIndex, days: number, now = Date.now()): IndexedIssue[] {
  const before = now - days * 24 * 60 * 60 * 1000
  return index.issues.filter((issue) => Date.parse(issue.lastUsedAt) < before)
}
