/**
 * The session index moved through the cache protocol: restored (through the tar guard and the
 * state codec, as plantable as any entry), merged with this run's change and saved as a new entry.
 */
import * as core from '@actions/core'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../../errors.js'
import { formatIssueRef, parseIssueRef } from '../../refs.js'
import { createActionsCacheClient } from '../cache/cache-state.js'
import { cachesRestApi } from '../github/forge.js'
import {
  MAX_INDEX_TEXT,
  parseSessionIndex,
  serializeSessionIndex,
  withIssue,
  type IndexedIssue,
  type ParsedIndex
} from '../sessions/session-index.js'
import { loadCache, runKeys, type RunContext } from './context.js'
import { entryCodec } from './workspace.js'

const FILE = 'index.json'
const CONTEXT = 'session index'
/** A sealed full index is under 1 MiB; the guard refuses an archive beyond these. */
const LIMITS = { maxBytes: 2 * 1024 * 1024, maxMembers: 8 }

/** What was read, and the key it was read from (undefined when the stream has no entry). */
export interface IndexRead extends ParsedIndex {
  key?: string
}

async function withIndexDir<T>(
  context: RunContext,
  fn: (dir: string, cache: ReturnType<typeof createActionsCacheClient>) => Promise<T>
): Promise<T> {
  const scratch = await mkdtemp(join(context.runner.temp, 'kugetsu-index-'))
  try {
    const root = join(scratch, 'state')
    const dir = join(root, 'index')
    await mkdir(dir, { recursive: true })
    return await fn(dir, createActionsCacheClient(root, loadCache, LIMITS))
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

async function restoreInto(
  dir: string,
  cache: ReturnType<typeof createActionsCacheClient>,
  context: RunContext
): Promise<IndexRead> {
  const refOf = (number: number) => formatIssueRef(parseIssueRef(`#${number}`, context.repo))
  let key: string | undefined
  try {
    key = await cache.restore(dir, runKeys(context).indexStream())
    if (key === undefined) return { issues: [], problems: [] }
    const raw = await readFile(join(dir, FILE), 'utf8').catch(() => '')
    if (raw.length > MAX_INDEX_TEXT * 4) {
      return { key, issues: [], problems: ['the index is too large'] }
    }
    const text = await entryCodec(context).decode(raw, CONTEXT)
    return { key, ...parseSessionIndex(text, refOf) }
  } catch (error) {
    // The index only ever lists: one that cannot be read is started again, and the next runs
    // fill it as issues are used.
    return { key, issues: [], problems: [`the index could not be read (${errorMessage(error)})`] }
  }
}

function warnProblems(read: IndexRead): void {
  if (read.problems.length === 0) return
  core.warning(
    `the session index ${read.key ?? ''} was read in part: ${read.problems.slice(0, 5).join('; ')}: the next turn on each issue puts it right`
  )
}

/** The newest session index, as far as it can be read; never throws. */
export async function readSessionIndex(context: RunContext): Promise<IndexRead> {
  return withIndexDir(context, async (dir, cache) => {
    const read = await restoreInto(dir, cache, context)
    warnProblems(read)
    return read
  })
}

/**
 * Whether runs keep the index: where the caches REST API may be missing (not on github.com, where
 * the index would be a restore and a save more per turn, for nothing).
 */
export function keepsSessionIndex(context: Pick<RunContext, 'runner'>): boolean {
  return cachesRestApi(context.runner.forge) !== 'always'
}

/**
 * Saves the index with `change` merged into the newest one, where runs keep it. Never fails the
 * run: an update lost (a failed save, two runs at once) is made good by the next run on that issue.
 */
export async function updateSessionIndex(context: RunContext, change: IndexedIssue): Promise<void> {
  if (!keepsSessionIndex(context)) return
  await withIndexDir(context, async (dir, cache) => {
    const read = await restoreInto(dir, cache, context)
    warnProblems(read)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    const text = serializeSessionIndex(withIssue(read, change))
    await writeFile(join(dir, FILE), await entryCodec(context).encode(text, CONTEXT))
    const keys = runKeys(context)
    const key = keys.keyFor(keys.indexStream())
    if (!(await cache.save(dir, key))) {
      core.warning(`could not save the session index (${key}); the next run updates it`)
    }
  }).catch((error: unknown) => {
    core.warning(`could not update the session index: ${errorMessage(error)}`)
  })
}
