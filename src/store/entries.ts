import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { KugetsuError, errorMessage } from '../errors.js'
import { parseIssueRef, refFileStem } from '../refs.js'
import { readIfExists, writeFileAtomic } from './atomic.js'
import type { BaseRecord, IssueRecord, StateStore } from './types.js'

const RECORD = 'record.json'
const SESSION = 'session.json'

/**
 * A store in which the base and every issue are self-contained directories (`base/`,
 * `issues/<stem>/`, each a `record.json` and a `session.json`), so each can be moved on its
 * own: the action caches the base and one issue as separate Actions cache entries, and a run on
 * one issue never touches another issue's files.
 */
export interface EntryStore extends StateStore {
  readonly root: string
  readonly baseDir: string
  issueDir(ref: string): string
}

async function readRecord<T>(dir: string, what: string): Promise<T | undefined> {
  const text = await readIfExists(join(dir, RECORD))
  if (text === undefined) return undefined
  try {
    const record = JSON.parse(text) as T
    if (record === null || typeof record !== 'object') throw new Error('not an object')
    return record
  } catch (error) {
    throw new KugetsuError(
      'corrupt-state',
      `the stored record of ${what} is unreadable (${errorMessage(error)}); destroy it and start again`
    )
  }
}

export function createEntryStore(root: string): EntryStore {
  const baseDir = join(root, 'base')
  const issuesDir = join(root, 'issues')
  const issueDir = (ref: string) => join(issuesDir, refFileStem(parseIssueRef(ref)))

  const writeEntry = async (dir: string, record: unknown, sessionExport?: string) => {
    await mkdir(dir, { recursive: true })
    if (sessionExport !== undefined) await writeFileAtomic(join(dir, SESSION), sessionExport)
    await writeFileAtomic(join(dir, RECORD), `${JSON.stringify(record, null, 2)}\n`)
  }

  return {
    root,
    baseDir,
    issueDir,
    getBase: () => readRecord<BaseRecord>(baseDir, 'the base session'),
    readBaseExport: () => readIfExists(join(baseDir, SESSION)),
    putBase: (record, sessionExport) => writeEntry(baseDir, record, sessionExport),
    deleteBase: () => rm(baseDir, { recursive: true, force: true }),
    getIssue: (ref) => readRecord<IssueRecord>(issueDir(ref), ref),
    readIssueExport: (ref) => readIfExists(join(issueDir(ref), SESSION)),
    putIssueRecord: (record) => writeEntry(issueDir(record.ref), record),
    putIssue: (record, sessionExport) => writeEntry(issueDir(record.ref), record, sessionExport),
    deleteIssue: (ref) => rm(issueDir(ref), { recursive: true, force: true }),
    async listIssues() {
      const names = await readdir(issuesDir).catch(() => [] as string[])
      const records = await Promise.all(
        names.map((name) => readRecord<IssueRecord>(join(issuesDir, name), name))
      )
      return records.filter((record): record is IssueRecord => record !== undefined)
    }
  }
}
