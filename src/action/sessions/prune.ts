import {
  isStateKey,
  keyPatterns,
  splitByScope,
  type CacheEntryInfo,
  type EntryScope
} from './listing.js'

/**
 * Which Actions cache entries `command: prune` and `command: destroy` delete, decided from the
 * caches REST API's list alone. Every save makes a new entry, so an issue's older entries are dead
 * weight once a newer one exists; they still count against the repository's cache quota and push
 * live sessions out when it fills. Keys matching neither kugetsu pattern are never touched, nor
 * are entries of another ref's scope (see EntryScope).
 */

export interface PlannedDeletion {
  id: number
  key: string
  sizeBytes: number
  reason: string
}

export interface DeletionPlan {
  deletions: PlannedDeletion[]
  /** kugetsu's entries the plan leaves in place. */
  kept: CacheEntryInfo[]
  totals: { count: number; bytesFreed: number }
  /** kugetsu's entries left alone because they were saved in another ref's scope. */
  otherScopes: number
}

export interface PruneOptions extends EntryScope {
  /** The current base stream's hash (the first 16 characters are used, as in the keys). */
  currentBaseHash: string
  /** Issues found closed: all their entries go. */
  closedIssues?: Iterable<number>
  /** Also delete every entry of base hashes other than the current one. Default false. */
  dropOtherBases?: boolean
}

/** `keep`: the tombstone just saved, which must outlive the entries it stands for. */
export type DestroyTarget = { issueNumber: number; keep?: string } | { base: true }

interface Parsed {
  entry: CacheEntryInfo
  issue?: number
  /** An issue's entry that is a tombstone (by its key; see forget.ts). */
  tombstone?: boolean
  baseHash?: string
  /** A session index entry: only the newest is worth keeping. */
  index?: true
}

interface ParsedScope {
  parsed: Parsed[]
  otherScopes: number
}

function parse(entries: CacheEntryInfo[], scope: EntryScope): ParsedScope {
  const { inScope, otherScopes } = splitByScope(entries, scope.scopeRef)
  const patterns = keyPatterns(scope.prefix)
  const parsed: Parsed[] = []
  for (const entry of inScope) {
    const issue = patterns.issue.exec(entry.key)
    if (issue) {
      parsed.push({ entry, issue: Number(issue[1]), tombstone: issue[3] !== undefined })
      continue
    }
    const base = patterns.base.exec(entry.key)
    if (base) parsed.push({ entry, baseHash: base[1].toLowerCase() })
    else if (patterns.index.test(entry.key)) parsed.push({ entry, index: true })
  }
  return {
    parsed,
    otherScopes: otherScopes.filter((entry) => isStateKey(entry.key, scope.prefix)).length
  }
}

/** Newest first; the larger id breaks a tie (ids grow with every save). */
const newestFirst = (a: Parsed, b: Parsed) =>
  Date.parse(b.entry.createdAt) - Date.parse(a.entry.createdAt) || b.entry.id - a.entry.id

function groupBy<K>(items: Parsed[], keyOf: (item: Parsed) => K | undefined): Map<K, Parsed[]> {
  const groups = new Map<K, Parsed[]>()
  for (const item of items) {
    const key = keyOf(item)
    if (key === undefined) continue
    groups.set(key, [...(groups.get(key) ?? []), item])
  }
  for (const group of groups.values()) group.sort(newestFirst)
  return groups
}

function planOf({ parsed, otherScopes }: ParsedScope, reasons: Map<Parsed, string>): DeletionPlan {
  const deletions: PlannedDeletion[] = []
  for (const item of parsed) {
    const reason = reasons.get(item)
    if (reason === undefined) continue
    const { id, key, sizeBytes } = item.entry
    deletions.push({ id, key, sizeBytes, reason })
  }
  return {
    deletions,
    kept: parsed.filter((item) => !reasons.has(item)).map(({ entry }) => entry),
    totals: {
      count: deletions.length,
      bytesFreed: deletions.reduce((sum, deletion) => sum + deletion.sizeBytes, 0)
    },
    otherScopes
  }
}

/** The distinct issue numbers that have entries, ascending: ask the API which of them are closed. */
export function issueNumbersWithEntries(entries: CacheEntryInfo[], scope: EntryScope): number[] {
  const numbers = new Set(parse(entries, scope).parsed.flatMap(({ issue }) => issue ?? []))
  return [...numbers].sort((a, b) => a - b)
}

/**
 * What `prune` deletes: entries of closed issues, but a newest tombstone (deleting it would let a
 * reopened issue rebuild the memory that was forgotten); every issue entry but the newest; every
 * base entry but the newest of its hash (and, with dropOtherBases, every entry of another hash);
 * every session index entry but the newest.
 */
export function planPrune(entries: CacheEntryInfo[], options: PruneOptions): DeletionPlan {
  const scoped = parse(entries, options)
  const { parsed } = scoped
  const closed = new Set(options.closedIssues ?? [])
  const current = options.currentBaseHash.slice(0, 16).toLowerCase()
  const reasons = new Map<Parsed, string>()

  for (const [issue, group] of groupBy(parsed, (item) => item.issue)) {
    group.forEach((item, index) => {
      if (index === 0 && item.tombstone) return
      if (closed.has(issue)) reasons.set(item, `issue #${issue} is closed`)
      else if (index > 0) reasons.set(item, `superseded by ${group[0].entry.key}`)
    })
  }
  for (const [hash, group] of groupBy(parsed, (item) => item.baseHash)) {
    group.forEach((item, index) => {
      if (options.dropOtherBases && hash !== current) {
        reasons.set(item, `base ${hash} is not the current base (${current})`)
      } else if (index > 0) reasons.set(item, `superseded by ${group[0].entry.key}`)
    })
  }
  for (const [, group] of groupBy(parsed, (item) => item.index)) {
    group.forEach((item, index) => {
      if (index > 0) reasons.set(item, `superseded by ${group[0].entry.key}`)
    })
  }
  return planOf(scoped, reasons)
}

/** What `destroy` deletes: every entry of one issue (but `keep`), or every base entry. */
export function destroyPlan(
  entries: CacheEntryInfo[],
  scope: EntryScope,
  target: DestroyTarget
): DeletionPlan {
  const scoped = parse(entries, scope)
  const reasons = new Map<Parsed, string>()
  for (const item of scoped.parsed) {
    if (
      'issueNumber' in target &&
      item.issue === target.issueNumber &&
      item.entry.key.toLowerCase() !== target.keep?.toLowerCase()
    ) {
      reasons.set(item, `destroy issue #${target.issueNumber}`)
    } else if ('base' in target && item.baseHash !== undefined) {
      reasons.set(item, 'destroy base')
    }
  }
  return planOf(scoped, reasons)
}
