import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { KugetsuError, errorMessage } from '../errors.js'
import { parseIssueRef, refFileStem } from '../refs.js'
import { readIfExists, writeFileAtomic } from './atomic.js'
import { stateCodec } from './crypto.js'
import type { BaseRecord, IssueRecord, StateStore } from './types.js'

const RECORD = 'record.json'
const SESSION = 'session.json'

/**
 * A store in which the base and every issue are self-contained directories (`base/`,
 * `issues/<stem>/`, each a `record.json` and a `session.json`), so each can be moved on its
 * own: the action caches the base and one issue as separate Actions cache entries, and a run on
 * one issue never touches another issue's files.
 */
/**
 * How an entry's files are written and read back: `encode` runs on every text before it is
 * written, `decode` on every text read (the action seals them with the state-key; see crypto.ts).
 * `context` names the file (`<ref> record`, `base session`...), so one file cannot pass for another.
 * Without a codec, files are plain, and a sealed file is refused as needing the state-key.
 */
export interface EntryCodec {
  encode(text: string, context: string): Promise<string>
  decode(text: string, context: string): Promise<string>
}

export interface EntryStore extends StateStore {
  readonly root: string
  readonly baseDir: string
  issueDir(ref: string): string
}

function corrupt(what: string, problem: string): KugetsuError {
  return new KugetsuError(
    'corrupt-state',
    `the stored ${what} is ${problem}; destroy it and start again`
  )
}

/** The parsed JSON object in `text`, or a corrupt-state error naming `what`. */
function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw corrupt(what, `unreadable, truncated or damaged (${errorMessage(error)})`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw corrupt(what, 'not a JSON object')
  }
  return value as Record<string, unknown>
}

/** The context naming a file for the codec: whose it is (`base` or the ref) and which. */
const contextOf = (owner: string, file: typeof RECORD | typeof SESSION) =>
  `${owner} ${file === RECORD ? 'record' : 'session'}`

export function createEntryStore(
  root: string,
  codec: EntryCodec = stateCodec(undefined)
): EntryStore {
  const baseDir = join(root, 'base')
  const issuesDir = join(root, 'issues')
  // An issue's files are bound to its directory's name, which is unique per ref.
  const stemOf = (ref: string) => refFileStem(parseIssueRef(ref))
  const issueDir = (ref: string) => join(issuesDir, stemOf(ref))

  const readText = async (dir: string, file: typeof RECORD | typeof SESSION, owner: string) => {
    const text = await readIfExists(join(dir, file))
    return text === undefined ? undefined : codec.decode(text, contextOf(owner, file))
  }
  const readRecord = async <T>(dir: string, owner: string, what: string) => {
    const text = await readText(dir, RECORD, owner)
    return text === undefined ? undefined : (parseObject(text, `record of ${what}`) as T)
  }
  /** A session export, checked to be whole before opencode is asked to import it. */
  const readExport = async (dir: string, owner: string, what: string) => {
    const text = await readText(dir, SESSION, owner)
    if (text === undefined) return undefined
    const info = parseObject(text, `session of ${what}`).info as { id?: unknown } | undefined
    if (typeof info?.id !== 'string') throw corrupt(`session of ${what}`, 'not a session export')
    return text
  }
  const writeEntry = async (
    dir: string,
    owner: string,
    record: unknown,
    sessionExport?: string
  ) => {
    await mkdir(dir, { recursive: true })
    if (sessionExport !== undefined) {
      await writeFileAtomic(
        join(dir, SESSION),
        await codec.encode(sessionExport, contextOf(owner, SESSION))
      )
    }
    await writeFileAtomic(
      join(dir, RECORD),
      await codec.encode(`${JSON.stringify(record, null, 2)}\n`, contextOf(owner, RECORD))
    )
  }

  return {
    root,
    baseDir,
    issueDir,
    getBase: () => readRecord<BaseRecord>(baseDir, 'base', 'the base session'),
    readBaseExport: () => readExport(baseDir, 'base', 'the base session'),
    putBase: (record, sessionExport) => writeEntry(baseDir, 'base', record, sessionExport),
    deleteBase: () => rm(baseDir, { recursive: true, force: true }),
    getIssue: (ref) => readRecord<IssueRecord>(issueDir(ref), stemOf(ref), ref),
    readIssueExport: (ref) => readExport(issueDir(ref), stemOf(ref), ref),
    putIssueRecord: (record) => writeEntry(issueDir(record.ref), stemOf(record.ref), record),
    putIssue: (record, sessionExport) =>
      writeEntry(issueDir(record.ref), stemOf(record.ref), record, sessionExport),
    deleteIssue: (ref) => rm(issueDir(ref), { recursive: true, force: true }),
    async listIssues() {
      const names = await readdir(issuesDir).catch(() => [] as string[])
      const records = await Promise.all(
        names.map((name) => readRecord<IssueRecord>(join(issuesDir, name), name, name))
      )
      return records.filter((record): record is IssueRecord => record !== undefined)
    }
  }
}
