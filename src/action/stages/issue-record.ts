/**
 * An issue's saved state read from the Actions cache without opencode, for what is decided
 * before (or instead of) a turn: commands, budgets. It restores into a private dir it removes.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createEntryStore } from '../../store/entries.js'
import { createActionsCacheClient } from '../cache/cache-state.js'
import { loadCache, type RunContext } from './context.js'
import { restoreIssueState, type IssueState } from './turn-state.js'
import { entryCodec } from './workspace.js'

export async function readIssueState(
  ref: string,
  issueNumber: number,
  context: RunContext
): Promise<IssueState> {
  await mkdir(context.runner.temp, { recursive: true })
  const dir = await mkdtemp(join(context.runner.temp, 'kugetsu-record-'))
  try {
    const stateRoot = join(dir, 'state')
    await mkdir(stateRoot, { recursive: true })
    const store = createEntryStore(stateRoot, entryCodec(context))
    const cache = createActionsCacheClient(stateRoot, loadCache)
    return await restoreIssueState(ref, issueNumber, context, { store, cache })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
