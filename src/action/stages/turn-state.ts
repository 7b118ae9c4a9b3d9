/**
 * An issue's state around a turn: restored from the Actions cache before it (with the base session
 * a new issue forks), saved back after it, and whether another run saved in between.
 */
import * as core from '@actions/core'
import { KugetsuError } from '../../errors.js'
import type { Forgetting, IssueRecord } from '../../store/types.js'
import { forgettingOf } from '../sessions/tombstone.js'
import { CacheEntryRefused, CacheRestoreError, type CacheClient } from '../cache/cache-state.js'
import { baseHash, runKeys, type RunContext } from './context.js'
import type { Workspace } from './workspace.js'

export interface IssueState {
  /** The cache entry restored, or undefined for an issue without one. */
  restoredKey?: string
  previous?: IssueRecord
  /** The restored entry was a tombstone: the turn starts afresh, without the thread before it. */
  forgotten?: Forgetting
}

/** The issue's saved session, if it has one. Fails rather than start over a session it cannot read. */
export async function restoreIssueState(
  ref: string,
  issueNumber: number,
  context: RunContext,
  { store, cache }: Pick<Workspace, 'store' | 'cache'>
): Promise<IssueState> {
  const issueStream = runKeys(context).issueStream(String(issueNumber))
  const restoredKey = await cache
    .restore(store.issueDir(ref), issueStream)
    .catch((error: unknown) => {
      if (error instanceof CacheEntryRefused) {
        throw new KugetsuError(
          'unsafe-state',
          `the newest Actions cache entry of ${ref} (${error.key ?? 'key unknown'}) was refused before anything was extracted: ${error.reason}. kugetsu never writes such an entry: someone who can write this repository's caches planted it. ${ref} keeps its session; delete that entry (gh cache delete ${error.key ?? '<key>'}) and run again`,
          { cause: error }
        )
      }
      // Going on would start the issue over, and its new entry would hide the old session.
      if (!(error instanceof CacheRestoreError)) throw error
      throw new KugetsuError(
        'corrupt-state',
        `could not read the session of ${ref} from the Actions cache (${error.message}); nothing was changed: try again, and if it keeps failing the entry is damaged`,
        { cause: error }
      )
    })
  const previous = restoredKey ? await store.getIssue(ref) : undefined
  const forgotten = previous && forgettingOf(previous, ref, restoredKey ?? '')
  if (forgotten) {
    core.info(
      `${ref} was forgotten (${forgotten.reason} by ${forgotten.by} at ${forgotten.at}): starting a new session`
    )
    // The engine must find no record: the fork starts from the base alone.
    await store.deleteIssue(ref)
    return { restoredKey, forgotten }
  }
  if (restoredKey && !previous?.sessionId) {
    throw new KugetsuError(
      'corrupt-state',
      `the cached state of ${ref} (${restoredKey}) holds no session; destroy it and start again`
    )
  }
  return { restoredKey, previous }
}

/** The base session a new issue forks: restored, or made (and saved) when there is none. */
export async function ensureBase(context: RunContext, workspace: Workspace): Promise<void> {
  const { store, cache, engine } = workspace
  const keys = runKeys(context)
  const baseStream = keys.baseStream(baseHash(context.inputs))
  // A base that cannot be read is made again: it is the same for every issue.
  const baseKey = await cache.restore(store.baseDir, baseStream).catch((error: unknown) => {
    // Nothing of it was extracted; a new base saved now is the stream's newest again.
    if (error instanceof CacheEntryRefused) {
      core.warning(
        `the base session's cache entry ${error.key ?? ''} was refused (${error.reason}); creating a new base. Delete that entry: kugetsu never writes such archives`
      )
      return undefined
    }
    if (!(error instanceof CacheRestoreError)) throw error
    return undefined
  })
  if (baseKey && (await store.getBase())) return
  core.info('No cached base session for this base prompt and model: creating one')
  await engine.init({ force: true })
  if (!(await cache.save(store.baseDir, keys.keyFor(baseStream)))) {
    core.warning(
      'Could not save the new base session to the Actions cache; the next new issue will create another'
    )
  }
}

/**
 * The key of an entry another run saved for the issue after this run restored its state, if any
 * (this turn does not know that run's). Asked when the agent's turn ends, while its work is
 * published: a lookup that needs nothing of the save.
 */
export function newerIssueState(
  ref: string,
  issueNumber: number,
  state: IssueState,
  context: RunContext,
  { store, cache }: Pick<Workspace, 'store' | 'cache'>
): Promise<string | undefined> {
  const keys = runKeys(context)
  return newerStateOf(
    cache,
    store.issueDir(ref),
    keys.issueStream(String(issueNumber)),
    state.restoredKey
  )
}

/**
 * Saves the issue's state after its turn. Returns what `newer` found: the key of an entry another
 * run saved after this one restored its state, if any.
 */
export async function saveIssueState(
  ref: string,
  issueNumber: number,
  record: IssueRecord,
  newer: Promise<string | undefined>,
  context: RunContext,
  { store, cache }: Workspace
): Promise<string | undefined> {
  const keys = runKeys(context)
  const issueDir = store.issueDir(ref)
  const issueStream = keys.issueStream(String(issueNumber))
  const lostRace = await newer
  const saved = await cache.save(
    issueDir,
    keys.keyFor(issueStream, [`t${record.turns}`, record.sessionId ?? ''])
  )
  if (!saved) {
    throw new KugetsuError(
      'opencode-failed',
      `the agent answered but its session could not be saved to the Actions cache; the previous state of ${ref} is unchanged`
    )
  }
  return lostRace
}

/**
 * The key of an entry another run saved for the issue after this run restored `restoredKey`: the
 * stream's newest entry is then not the one restored (keys may come back lowercased on GHES/Gitea).
 */
async function newerStateOf(
  cache: CacheClient,
  dir: string,
  stream: string,
  restoredKey: string | undefined
): Promise<string | undefined> {
  const newest = await cache.newestKey(dir, stream)
  if (newest === undefined) return undefined
  return newest.toLowerCase() === restoredKey?.toLowerCase() ? undefined : newest
}
