import * as core from '@actions/core'
import { formatIssueRef, parseIssueRef, type IssueRef } from '../../refs.js'
import type { RepoContext } from '../github/event.js'
import { deleteIssueBranch } from './issue-branch.js'
import type { GitHub } from '../github/github.js'
import { listingFromEntries, type CacheEntryInfo, type EntryScope } from './listing.js'
import { destroyPlan, issueNumbersWithEntries, planPrune, type DeletionPlan } from './prune.js'
import { defaultBranchRef } from '../github/scope.js'
import { cachesRestApi, forgeName, type Forge } from '../github/forge.js'
import type { ParsedIndex } from './session-index.js'
import { listFromIndex, pruneFromIndex } from './index-listing.js'

/**
 * The session commands of the action (`list`, `destroy`, `prune`, and a closed issue's destroy),
 * worked from the caches REST API alone: the keys say which issue an entry belongs to, so nothing
 * is downloaded and no opencode starts. Only the default branch's cache scope is worked on (see
 * EntryScope in listing.ts).
 */

export interface SessionsContext {
  github: GitHub
  /** The forge (default github): Gitea and Forgejo have no caches REST API to ask. */
  forge?: Forge
  repo: RepoContext
  /** state-prefix: only entries under it are kugetsu's. */
  prefix: string
  /** The default branch as the event payload names it; read from the API when absent. */
  defaultBranch?: string
  /** destroy of an issue also deletes its branch when its pull request was merged or closed. */
  deleteBranch?: { prefix: string }
  setOutputs(outputs: Record<string, string | number>): void
  /**
   * The session index (see session-index.ts), read through the cache protocol: what `list` and
   * `prune` work from where the caches REST API is missing.
   */
  readIndex?: () => Promise<ParsedIndex & { key?: string }>
}

/** The entries of the default branch's scope under the prefix, asked of the API for that ref. */
async function entries(
  context: SessionsContext
): Promise<{ entries: CacheEntryInfo[]; scope: EntryScope }> {
  const scopeRef = await defaultBranchRef(context.defaultBranch, () =>
    context.github.defaultBranch()
  )
  core.info(`Working on the cache entries of ${scopeRef} (the default branch)`)
  return {
    entries: await context.github.cacheEntries(`${context.prefix}-`, scopeRef),
    scope: { prefix: context.prefix, scopeRef }
  }
}

/** Said when the listing held entries of other refs' scopes, which were left alone. */
function otherScopesNote(count: number, scope: EntryScope): string {
  if (count === 0) return ''
  const note = `${count} ${plural(count)} of other branches or pull requests ignored (only ${scope.scopeRef}'s are worked on)`
  core.info(note)
  return `${note}.\n\n`
}
const plural = (count: number) => `entr${count === 1 ? 'y' : 'ies'}`
const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`

async function deleteAll(plan: DeletionPlan, context: SessionsContext): Promise<void> {
  for (const deletion of plan.deletions) {
    await context.github.deleteCacheEntry(deletion.id, deletion.key)
    core.info(`Deleted ${deletion.key} (${deletion.reason})`)
  }
}

async function report(
  title: string,
  mode: 'destroy' | 'prune',
  plan: DeletionPlan,
  context: SessionsContext & { scope: EntryScope },
  extra: Record<string, string> = {}
): Promise<void> {
  const { count, bytesFreed } = plan.totals
  const ignored = otherScopesNote(plan.otherScopes, context.scope)
  core.info(`${title}: ${count} ${plural(count)} deleted, ${kib(bytesFreed)} freed`)
  context.setOutputs({
    skipped: 'false',
    'skip-reason': '',
    mode,
    'deleted-entries': count,
    ...extra
  })
  await core.summary
    .addHeading(`kugetsu: ${title}`, 3)
    .addRaw(
      `\n${count} cache ${plural(count)} deleted, ${kib(bytesFreed)} freed.\n\n${ignored}`,
      true
    )
    .addTable([
      [
        { data: 'Entry', header: true },
        { data: 'Why', header: true }
      ],
      ...plan.deletions.map((deletion) => [deletion.key, deletion.reason])
    ])
    .write()
}

/** A forge without the caches REST API (Gitea, Forgejo) answers its routes 404. */
const noCachesApi = (error: unknown) => (error as { status?: unknown }).status === 404

/**
 * Deletes every entry of an issue (never of another whose number starts the same) or of the base.
 * An issue's `tombstone` (saved first, see forget.ts) is kept: it is what makes the session
 * forgotten; the deletions only free space, so a forge without the caches REST API leaves the
 * older entries to the cache's own eviction.
 */
export async function destroySessions(
  target: { ref: IssueRef; tombstone?: string } | { base: true },
  context: SessionsContext,
  title?: string
): Promise<void> {
  const forge = context.forge ?? 'github'
  // An issue's tombstone forgets it: where there is no API to delete its older entries with, that is enough
  const forgetsAlone = 'ref' in target && target.tombstone !== undefined
  const listed =
    forgetsAlone && cachesRestApi(forge) === 'none'
      ? undefined
      : await entries(context).catch((error: unknown) => {
          if (!forgetsAlone || !noCachesApi(error)) throw error
          return undefined
        })
  if (listed === undefined) {
    const why =
      cachesRestApi(forge) === 'none'
        ? `${forgeName(forge)} has no caches REST API`
        : 'The caches REST API answered 404'
    const note = `${why}: the tombstone ${(target as { tombstone: string }).tombstone} forgets the session, and its older entries are left to the cache's own eviction.`
    core.info(note)
    core.summary.addRaw(`\n${note}\n`, true)
  }
  const { entries: all, scope } = listed ?? {
    entries: [],
    scope: { prefix: context.prefix, scopeRef: '' }
  }
  const plan =
    'base' in target
      ? destroyPlan(all, scope, { base: true })
      : destroyPlan(all, scope, { issueNumber: target.ref.number, keep: target.tombstone })
  await deleteAll(plan, context)
  const what = 'base' in target ? 'the base session' : formatIssueRef(target.ref)
  if ('ref' in target && context.deleteBranch) {
    const branch = await deleteIssueBranch(
      context.github,
      context.deleteBranch.prefix,
      target.ref.number
    )
    const line = branch.deleted
      ? `Deleted the branch ${branch.branch}.`
      : `Kept the branch ${branch.branch}: ${branch.reason}.`
    core.info(line)
    core.summary.addRaw(`\n${line}\n`, true)
  }
  await report(
    title ?? `destroyed ${what}`,
    'destroy',
    plan,
    { ...context, scope },
    'base' in target ? {} : { 'issue-ref': formatIssueRef(target.ref) }
  )
}

/**
 * The entries as `entries` gives them, or undefined on a forge without the caches REST API: Gitea
 * and Forgejo are known to have none, so they are not asked; any other forge answering 404 (a
 * GitHub-compatible server without it) falls back to the index too.
 */
async function entriesOrNone(
  context: SessionsContext
): Promise<Awaited<ReturnType<typeof entries>> | undefined> {
  const forge = context.forge ?? 'github'
  if (context.readIndex !== undefined && cachesRestApi(forge) === 'none') {
    core.info(`${forgeName(forge)} has no caches REST API: reading the session index`)
    return undefined
  }
  return entries(context).catch((error: unknown) => {
    if (context.readIndex === undefined || !noCachesApi(error)) throw error
    core.info(
      'The caches REST API answered 404 (Gitea and Forgejo have none): reading the session index'
    )
    return undefined
  })
}

/** Deletes superseded entries, older entries of the current base and closed issues' entries. */
export async function pruneSessions(
  currentBaseHash: string,
  context: SessionsContext
): Promise<void> {
  const listed = await entriesOrNone(context)
  if (listed === undefined) return await pruneFromIndex(context)
  const { entries: all, scope } = listed
  const closedIssues: number[] = []
  for (const number of issueNumbersWithEntries(all, scope)) {
    if (await context.github.isClosed(number)) closedIssues.push(number)
  }
  const plan = planPrune(all, { ...scope, currentBaseHash, closedIssues })
  await deleteAll(plan, context)
  await report('pruned the Actions cache', 'prune', plan, { ...context, scope })
}

/** Every tracked issue, as the `sessions` output and a job-summary table. */
export async function listSessions(context: SessionsContext): Promise<void> {
  const listed = await entriesOrNone(context)
  if (listed === undefined) return await listFromIndex(context)
  const { entries: all, scope } = listed
  const listing = listingFromEntries(all, scope, (number) =>
    formatIssueRef(parseIssueRef(`#${number}`, context.repo))
  )
  const sessions = listing.sessions.map(
    ({ ref, sessionId, turns, updatedAt, lastUsedAt, sizeBytes }) => ({
      ref,
      sessionId,
      turns,
      updatedAt,
      lastUsedAt,
      sizeBytes
    })
  )
  context.setOutputs({
    skipped: 'false',
    'skip-reason': '',
    mode: 'list',
    sessions: JSON.stringify(sessions)
  })
  core.info(
    `${sessions.length} tracked issue(s), ${listing.base.length} base ${plural(listing.base.length)}`
  )
  const ignored = otherScopesNote(listing.otherScopes, scope)
  const forgotten = listing.forgotten.length
    ? `${listing.forgotten.length} forgotten (destroyed, reset or closed; the next turn starts afresh): ${listing.forgotten.map((n) => `#${n}`).join(', ')}.\n\n`
    : ''
  await core.summary
    .addHeading(`kugetsu: ${sessions.length} tracked issue(s)`, 3)
    .addRaw(ignored || forgotten ? `\n${ignored}${forgotten}` : '', true)
    .addTable([
      [
        { data: 'Issue', header: true },
        { data: 'Session', header: true },
        { data: 'Turns', header: true },
        { data: 'Last saved', header: true },
        { data: 'Size', header: true }
      ],
      ...sessions.map((session) => [
        session.ref,
        session.sessionId,
        String(session.turns),
        session.updatedAt,
        kib(session.sizeBytes)
      ]),
      ...listing.base
        .slice(0, 1)
        .map((base) => ['(base)', base.key, '', base.createdAt, kib(base.sizeBytes)])
    ])
    .write()
}
