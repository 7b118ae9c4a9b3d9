/**
 * Forgetting an issue's session (destroy, reset, a closed issue) through the cache protocol alone:
 * a tombstone saved as the newest entry of the issue's stream, which every forge's cache offers.
 */
import * as core from '@actions/core'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { KugetsuError } from '../../errors.js'
import { formatIssueRef, type IssueRef } from '../../refs.js'
import { createEntryStore } from '../../store/entries.js'
import type { ForgetReason, Forgetting } from '../../store/types.js'
import { createActionsCacheClient } from '../cache/cache-state.js'
import { TOMBSTONE_FACT } from '../sessions/listing.js'
import { tombstoneRecord } from '../sessions/tombstone.js'
import { loadCache, runKeys, type RunContext } from './context.js'
import { updateSessionIndex } from './session-index-store.js'
import { entryCodec } from './workspace.js'

export interface Forgotten {
  /** The tombstone's cache key: keep it when deleting the issue's older entries. */
  key: string
  forgotten: Forgetting
}

/**
 * Saves a tombstone for `ref`: the next turn starts a fresh fork from the base and is not given
 * the thread before now. Older entries are left in place (a reset; destroy deletes them after,
 * where the caches REST API exists). Sealed with the state-key like every entry.
 */
export async function forgetIssue(
  context: RunContext,
  ref: IssueRef,
  reason: ForgetReason,
  by: string
): Promise<Forgotten> {
  const name = formatIssueRef(ref)
  const forgotten: Forgetting = { at: new Date().toISOString(), by, reason }
  const keys = runKeys(context)
  const key = keys.keyFor(keys.issueStream(String(ref.number)), [TOMBSTONE_FACT])
  const dir = await mkdtemp(join(context.runner.temp, 'kugetsu-forget-'))
  try {
    const root = join(dir, 'state')
    const store = createEntryStore(root, entryCodec(context))
    await store.putIssueRecord(tombstoneRecord(name, forgotten))
    const cache = createActionsCacheClient(root, loadCache)
    if (!(await cache.save(store.issueDir(name), key))) {
      throw new KugetsuError(
        'forget-failed',
        `could not save the tombstone of ${name} to the Actions cache (${key}; see the warning above): its session was not forgotten, nothing was deleted; run again`
      )
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  core.info(`Forgot the session of ${name} (${reason}, by ${by}): saved the tombstone ${key}`)
  await updateSessionIndex(context, {
    number: ref.number,
    ref: name,
    sessionId: '',
    turns: 0,
    lastUsedAt: forgotten.at,
    forgotten
  })
  return { key, forgotten }
}
