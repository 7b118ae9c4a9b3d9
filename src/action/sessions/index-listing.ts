/**
 * `list` and `prune` on a forge without the caches REST API (Gitea, Forgejo): worked from the
 * session index, and a prune that can delete nothing says what the cache's own eviction removes.
 */
import * as core from '@actions/core'
import type { SessionsContext } from './sessions.js'
import { staleIssues } from './session-index.js'

/** Days unused after which the runners' cache servers (and GitHub's) evict an entry. */
export const EVICTION_DAYS = 7

async function readIndex(context: SessionsContext) {
  const read = await context.readIndex!()
  core.info(
    read.key
      ? `Read the session index ${read.key}: ${read.issues.length} issue(s)`
      : 'No session index in the cache yet: no turn has run since kugetsu started keeping one'
  )
  return read
}

/** Every issue of the index, as the `sessions` output and a job-summary table. */
export async function listFromIndex(context: SessionsContext): Promise<void> {
  const read = await readIndex(context)
  const live = read.issues.filter((issue) => !issue.forgotten)
  const forgotten = read.issues.filter((issue) => issue.forgotten)
  const sessions = live.map(({ ref, sessionId, turns, lastUsedAt, branch }) => ({
    ref,
    sessionId,
    turns,
    updatedAt: lastUsedAt,
    lastUsedAt,
    ...(branch ? { branch } : {})
  }))
  context.setOutputs({
    skipped: 'false',
    'skip-reason': '',
    mode: 'list',
    sessions: JSON.stringify(sessions)
  })
  core.info(`${sessions.length} tracked issue(s) (from the session index)`)
  const forgottenNote = forgotten.length
    ? `${forgotten.length} forgotten (destroyed, reset or closed; the next turn starts afresh): ${forgotten.map((issue) => `#${issue.number}`).join(', ')}.\n\n`
    : ''
  const source =
    'Listed from the session index kept in the cache (this forge has no caches REST API); entries unused for ' +
    `${EVICTION_DAYS} days may have been evicted since.\n\n`
  await core.summary
    .addHeading(`kugetsu: ${sessions.length} tracked issue(s)`, 3)
    .addRaw(`\n${source}${forgottenNote}`, true)
    .addTable([
      [
        { data: 'Issue', header: true },
        { data: 'Session', header: true },
        { data: 'Turns', header: true },
        { data: 'Last used', header: true },
        { data: 'Branch', header: true }
      ],
      ...live.map((issue) => [
        issue.ref,
        issue.sessionId,
        String(issue.turns),
        issue.lastUsedAt,
        issue.branch ?? ''
      ])
    ])
    .write()
}

/** Deletes nothing (nothing can be): says which sessions the cache's own eviction will remove. */
export async function pruneFromIndex(context: SessionsContext): Promise<void> {
  const read = await readIndex(context)
  const stale = staleIssues(read, EVICTION_DAYS)
  const note = `This forge has no caches REST API, so prune deletes nothing: its cache server evicts entries unused for ${EVICTION_DAYS} days, superseded entries included. ${stale.length} issue(s) unused for ${EVICTION_DAYS} days (their entries are due for eviction).`
  core.info(note)
  context.setOutputs({
    skipped: 'false',
    'skip-reason': '',
    mode: 'prune',
    'deleted-entries': 0
  })
  await core.summary
    .addHeading('kugetsu: pruning is left to the cache', 3)
    .addRaw(`\n${note}\n\n`, true)
    .addTable([
      [
        { data: 'Issue', header: true },
        { data: 'Last used', header: true }
      ],
      ...stale.map((issue) => [issue.ref, issue.lastUsedAt])
    ])
    .write()
}
