import { factFromKey } from '../cache/key-facts.js'

/**
 * What kugetsu has in the Actions cache, read from the caches REST API: the keys alone say which
 * issue an entry belongs to, its turn count and session (or that it is a tombstone), so nothing
 * is downloaded.
 */

export interface CacheEntryInfo {
  id: number
  key: string
  /**
   * The git ref whose cache scope the entry was saved in (`refs/heads/main`, `refs/pull/12/merge`);
   * '' when the service did not say.
   */
  ref: string
  createdAt: string
  lastAccessedAt: string
  sizeBytes: number
}

export interface TrackedSession {
  ref: string
  number: number
  sessionId: string
  turns: number
  updatedAt: string
  lastUsedAt: string
  sizeBytes: number
  /** Older entries of the same issue, superseded by the newest. */
  olderEntries: number
  key: string
}

export interface StateListing {
  sessions: TrackedSession[]
  /** Issues whose newest entry is a tombstone: their session was forgotten (see forget.ts). */
  forgotten: number[]
  base: { key: string; createdAt: string; sizeBytes: number }[]
  /** Entries under the prefix that were left out: saved in another ref's scope. */
  otherScopes: number
}

/**
 * The entries a session command works on: kugetsu's (under the state-prefix) in one cache scope,
 * the default branch's (`refs/heads/<branch>`). Another ref's entries (a pull request's, a feature
 * branch's) belong to runs of that ref: an older run id there says nothing about the default
 * branch's session, so they are never listed, superseded or destroyed from here.
 */
export interface EntryScope {
  prefix: string
  scopeRef: string
}

/**
 * `entries` split by `scopeRef`. The caches API is asked for that ref alone, but its answer is not
 * trusted to be filtered: an entry without a ref is outside every scope.
 */
export function splitByScope(
  entries: CacheEntryInfo[],
  scopeRef: string
): { inScope: CacheEntryInfo[]; otherScopes: CacheEntryInfo[] } {
  const inScope: CacheEntryInfo[] = []
  const otherScopes: CacheEntryInfo[] = []
  for (const entry of entries) {
    if (scopeRef !== '' && entry.ref === scopeRef) inScope.push(entry)
    else otherScopes.push(entry)
  }
  return { inScope, otherScopes }
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The last segment of a tombstone's key (see forget.ts). */
export const TOMBSTONE_FACT = 'forgotten'

export interface KeyPatterns {
  /**
   * `<prefix>-issue-<N>-<run>-<attempt>[-t<turns>][-<session>|-forgotten]`: N, turns, the
   * tombstone mark, the session (caseless, see caselessFact; mixed case from released versions).
   */
  issue: RegExp
  /** `<prefix>-base-<hash16>-<run>-<attempt>`: the hash. */
  base: RegExp
  /** `<prefix>-index-<run>-<attempt>`: the session index (see session-index.ts). */
  index: RegExp
}

/**
 * Patterns matching whole keys, so issue 7 never matches 70's entries. Case-insensitive: some
 * cache services (Gitea, Forgejo) lowercase keys.
 */
export function keyPatterns(prefix: string): KeyPatterns {
  const start = `^${escapeRegExp(prefix)}`
  return {
    issue: new RegExp(
      `${start}-issue-(\\d+)-\\d+-\\d+(?:-t(\\d+))?(?:-(${TOMBSTONE_FACT})|-([A-Za-z0-9_.]+))?$`,
      'i'
    ),
    base: new RegExp(`${start}-base-([A-Za-z0-9]+)-\\d+-\\d+$`, 'i'),
    index: new RegExp(`${start}-index-\\d+-\\d+$`, 'i')
  }
}

/** Whether a key is one of kugetsu's entries under `prefix` (an issue's, a base's, the index's). */
export function isStateKey(key: string, prefix: string): boolean {
  const patterns = keyPatterns(prefix)
  return patterns.issue.test(key) || patterns.base.test(key) || patterns.index.test(key)
}

/**
 * Groups the entries under `scope.prefix` saved in `scope.scopeRef` by issue, newest first;
 * `refOf` makes a canonical ref.
 */
export function listingFromEntries(
  entries: CacheEntryInfo[],
  scope: EntryScope,
  refOf: (issueNumber: number) => string
): StateListing {
  const { prefix } = scope
  const { inScope, otherScopes } = splitByScope(entries, scope.scopeRef)
  const issuePattern = keyPatterns(prefix).issue
  const basePrefix = `${prefix}-base-`.toLowerCase()
  const byIssue = new Map<number, CacheEntryInfo[]>()
  const base: StateListing['base'] = []
  for (const entry of inScope) {
    const match = issuePattern.exec(entry.key)
    if (match) {
      const number = Number(match[1])
      byIssue.set(number, [...(byIssue.get(number) ?? []), entry])
    } else if (entry.key.toLowerCase().startsWith(basePrefix)) {
      base.push({ key: entry.key, createdAt: entry.createdAt, sizeBytes: entry.sizeBytes })
    }
  }
  const newestFirst = (a: { createdAt: string }, b: { createdAt: string }) =>
    Date.parse(b.createdAt) - Date.parse(a.createdAt)
  const sessions: TrackedSession[] = []
  const forgotten: number[] = []
  for (const [number, group] of byIssue) {
    group.sort(newestFirst)
    const newest = group[0]
    const match = issuePattern.exec(newest.key)!
    if (match[3] !== undefined) {
      forgotten.push(number)
      continue
    }
    sessions.push({
      ref: refOf(number),
      number,
      sessionId: match[4] === undefined ? '' : factFromKey(match[4]),
      turns: match[2] ? Number(match[2]) : 0,
      updatedAt: newest.createdAt,
      lastUsedAt: newest.lastAccessedAt,
      sizeBytes: newest.sizeBytes,
      olderEntries: group.length - 1,
      key: newest.key
    })
  }
  sessions.sort((a, b) => a.number - b.number)
  base.sort(newestFirst)
  const others = otherScopes.filter((entry) => isStateKey(entry.key, prefix)).length
  forgotten.sort((a, b) => a - b)
  return { sessions, forgotten, base, otherScopes: others }
}
