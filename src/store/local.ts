/**
 * The state store in a local directory (the CLI's, and what the action caches):
 *
 *     <dir>/index.json                 { "version": 1, "base": BaseRecord|null, "issues": { [ref]: IssueRecord } }
 *     <dir>/base.<token>.json          the base session's opencode export
 *     <dir>/issues/<stem>.<token>.json each issue session's opencode export (stem: refFileStem)
 *     <dir>/index.lock                 held while index.json is read, modified and written
 *
 * A lookup reads index.json and at most one export. Each record in the index names its export
 * file (`exportFile`, a store-internal field callers never see): a new export is written under a
 * new name, then the index is switched to it, then the superseded file is deleted. Every file is
 * replaced atomically (temporary file, fsync, rename), so an interrupted or failed write leaves the
 * previous record and export intact; at worst it leaves an orphan file, which prune removes.
 * A record without `exportFile` (the layout of the original tool) uses `base.json` or
 * `issues/<stem>.json`.
 *
 * Every write takes the lock around its whole read-modify-write of index.json (and the export
 * files it writes or deletes), so concurrent writers, in this process or others, lose nothing.
 * Reads take no lock: index.json is only ever replaced whole.
 */
import { join } from 'node:path'
import { KugetsuError, errorMessage } from '../errors.js'
import { formatIssueRef, parseIssueRef, refFileStem } from '../refs.js'
import {
  acquireLock,
  errorCode,
  isTempFileName,
  nodeFs,
  uniqueToken,
  writeFileAtomic,
  type StoreFs
} from './atomic.js'
import type { BaseRecord, IssueRecord, StateStore } from './types.js'

export interface LocalStoreOptions {
  /** How long a write waits for another writer's lock before failing with `state-locked`. */
  lockTimeoutMs?: number
  /** Age after which a lock whose holder cannot be checked is taken to be abandoned. */
  staleLockMs?: number
  /** File-system operations to use instead of node's (tests inject failures this way). */
  fs?: Partial<StoreFs>
}

export interface PruneOptions {
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean
  /** Also remove records that have a run pending (it may still be going). */
  force?: boolean
}

export interface PruneCandidate {
  ref: string
  reason: string
}

export interface PruneReport {
  /** Issue records removed (or that would be). */
  removed: PruneCandidate[]
  /** Records that would be removed but have a run pending; removed only with `force`. */
  kept: PruneCandidate[]
  /** Files no record points at (paths relative to the store directory), removed or not. */
  orphanFiles: string[]
}

export interface LocalStore extends StateStore {
  readonly dir: string
  /** Files in `issues/`, as paths relative to the store directory, sorted. */
  listExportFiles(): Promise<string[]>
  /**
   * Files the store made that no record points at: superseded or abandoned exports, temporary
   * files of interrupted writes. Paths relative to the store directory, sorted.
   */
  listOrphanFiles(): Promise<string[]>
  /** Removes those of `files` (relative paths) that are still orphans; others are left alone. */
  removeFiles(files: string[]): Promise<void>
  /**
   * Removes issue records whose session export is missing or is not valid JSON (including records
   * whose first run never completed), then orphan files; all under one lock. Records with a pending
   * run are kept unless `force`. The base record is never removed.
   */
  prune(options?: PruneOptions): Promise<PruneReport>
}

interface StoredIssue extends IssueRecord {
  exportFile?: string
}

interface StoredBase extends BaseRecord {
  exportFile?: string
}

interface IndexFile {
  version: 1
  base: StoredBase | null
  issues: Record<string, StoredIssue>
}

const INDEX = 'index.json'
const LOCK = 'index.lock'
const ISSUES = 'issues'
const LEGACY_BASE_EXPORT = 'base.json'
const BASE_EXPORT = /^base\.[0-9a-z]+\.json$/

// ---------------------------------------------------------------------------------------------
// Record validation, shared by reading (corrupt-state) and writing (invalid-input), so the store
// never writes an index it would refuse to read.

type Check = (value: unknown) => boolean

const isString: Check = (value) => typeof value === 'string'
const isNonEmptyString: Check = (value) => typeof value === 'string' && value.length > 0
const isCount: Check = (value) => Number.isSafeInteger(value) && (value as number) >= 0
const isFiniteNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value)
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function fieldProblems(
  value: Record<string, unknown>,
  required: Record<string, [Check, string]>,
  optional: Record<string, [Check, string]>
): string | undefined {
  for (const [field, [check, what]] of Object.entries(required)) {
    if (!check(value[field])) return `.${field} must be ${what}`
  }
  for (const [field, [check, what]] of Object.entries(optional)) {
    if (value[field] !== undefined && !check(value[field])) return `.${field} must be ${what}`
  }
  return undefined
}

const isTokens: Check = (value) =>
  isObject(value) &&
  ['input', 'output', 'reasoning', 'cacheRead', 'cacheWrite'].every((key) =>
    isFiniteNumber(value[key])
  )

const isLedger: Check = (value) =>
  isObject(value) &&
  isCount(value.turns) &&
  isTokens(value.tokens) &&
  isFiniteNumber(value.cost) &&
  Array.isArray(value.recent) &&
  value.recent.every(
    (turn) =>
      isObject(turn) && isCount(turn.turn) && isTokens(turn.tokens) && isFiniteNumber(turn.cost)
  )

const isPending: Check = (value) =>
  isObject(value) &&
  isString(value.startedAt) &&
  (value.mode === 'start' || value.mode === 'continue') &&
  (value.pid === undefined || isCount(value.pid))

function issueExportName(stem: string, name: string): boolean {
  return name.startsWith(`${stem}.`) && /^[0-9a-z]+\.json$/.test(name.slice(stem.length + 1))
}

/** The problem with `value` as the stored record of `key`, or undefined. */
function issueProblem(value: unknown, key: string): string | undefined {
  if (!isObject(value)) return ' must be an object'
  if (value.ref !== key) return '.ref must equal its key'
  const stem = refFileStem(parseIssueRef(key))
  return fieldProblems(
    value,
    {
      sessionId: [(v) => v === null || isNonEmptyString(v), 'a session id or null'],
      baseSessionId: [isNonEmptyString, 'a session id'],
      createdAt: [isString, 'a string'],
      updatedAt: [isString, 'a string'],
      turns: [isCount, 'a non-negative integer']
    },
    {
      lastTokens: [isTokens, 'token counts'],
      lastCost: [isFiniteNumber, 'a number'],
      ledger: [isLedger, 'a ledger ({ turns, tokens, cost, recent })'],
      pending: [isPending, 'a pending run ({ startedAt, mode, pid? })'],
      lastError: [isString, 'a string'],
      exportFile: [(v) => isString(v) && issueExportName(stem, v as string), `${stem}.<token>.json`]
    }
  )
}

function baseProblem(value: unknown): string | undefined {
  if (!isObject(value)) return ' must be an object or null'
  return fieldProblems(
    value,
    {
      sessionId: [isNonEmptyString, 'a session id'],
      createdAt: [isString, 'a string'],
      promptHash: [isString, 'a string']
    },
    {
      model: [isString, 'a string'],
      exportFile: [(v) => isString(v) && BASE_EXPORT.test(v as string), 'base.<token>.json']
    }
  )
}

function canonicalKey(ref: string): string {
  return formatIssueRef(parseIssueRef(ref))
}

/** Copies a caller's record for storing, minus anything the store manages itself. */
function toStoredIssue(record: IssueRecord): StoredIssue {
  if (!isObject(record))
    throw new KugetsuError('invalid-input', 'an issue record must be an object')
  const key = canonicalKey(record.ref)
  const { exportFile: _ignored, ...copy } = { ...(record as StoredIssue), ref: key }
  const problem = issueProblem(JSON.parse(JSON.stringify(copy)), key)
  if (problem !== undefined) {
    throw new KugetsuError('invalid-input', `invalid issue record ${key}: record${problem}`)
  }
  return copy
}

function toStoredBase(record: BaseRecord): StoredBase {
  if (!isObject(record))
    throw new KugetsuError('invalid-input', 'the base record must be an object')
  const { exportFile: _ignored, ...copy } = record as StoredBase
  const problem = baseProblem(JSON.parse(JSON.stringify(copy)))
  if (problem !== undefined)
    throw new KugetsuError('invalid-input', `invalid base record: base${problem}`)
  return copy
}

function publicIssue(stored: StoredIssue): IssueRecord {
  const { exportFile: _internal, ...record } = stored
  return record
}

function publicBase(stored: StoredBase): BaseRecord {
  const { exportFile: _internal, ...record } = stored
  return record
}

// ---------------------------------------------------------------------------------------------

function newToken(): string {
  return `${Date.now().toString(36)}${uniqueToken(4)}`
}

function ignoreMissing(error: unknown): undefined {
  if (errorCode(error) === 'ENOENT') return undefined
  throw error
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

export function createLocalStore(dir: string, options: LocalStoreOptions = {}): LocalStore {
  const fs: StoreFs = { ...nodeFs, ...options.fs }
  const indexPath = join(dir, INDEX)
  const lockPath = join(dir, LOCK)

  const corrupt = (what: string) =>
    new KugetsuError(
      'corrupt-state',
      `state index ${indexPath} ${what}; restore it from a backup, or move it aside to start with empty state`
    )

  const emptyIndex = (): IndexFile => ({ version: 1, base: null, issues: {} })

  async function readIndex(): Promise<IndexFile> {
    let text: string
    try {
      text = await fs.readFile(indexPath)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return emptyIndex()
      throw error
    }
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch (error) {
      throw corrupt(`is not valid JSON (${errorMessage(error)})`)
    }
    if (!isObject(data)) throw corrupt('is not a JSON object')
    if (data.version !== 1) {
      throw corrupt(
        `has version ${JSON.stringify(data.version)?.slice(0, 20)}, this kugetsu reads version 1`
      )
    }
    if (data.base !== null) {
      const problem = baseProblem(data.base)
      if (problem !== undefined) throw corrupt(`is malformed: base${problem}`)
    }
    if (!isObject(data.issues)) throw corrupt('is malformed: issues must be an object')
    for (const [key, value] of Object.entries(data.issues)) {
      let canonical: string
      try {
        canonical = canonicalKey(key)
      } catch (error) {
        throw corrupt(`is malformed: ${errorMessage(error)}`)
      }
      if (canonical !== key)
        throw corrupt(`is malformed: key ${JSON.stringify(key)} is not canonical`)
      const problem = issueProblem(value, key)
      if (problem !== undefined)
        throw corrupt(`is malformed: issues[${JSON.stringify(key)}]${problem}`)
    }
    return data as unknown as IndexFile
  }

  async function writeIndex(index: IndexFile): Promise<void> {
    const issues: Record<string, StoredIssue> = {}
    for (const key of Object.keys(index.issues).sort()) issues[key] = index.issues[key]
    const text = `${JSON.stringify({ version: 1, base: index.base, issues }, null, 2)}\n`
    await writeFileAtomic(indexPath, text, fs)
  }

  const issueExportFile = (key: string, record: StoredIssue) =>
    join(ISSUES, record.exportFile ?? `${refFileStem(parseIssueRef(key))}.json`)
  const baseExportFile = (record: StoredBase) => record.exportFile ?? LEGACY_BASE_EXPORT

  async function readText(relative: string): Promise<string | undefined> {
    return fs.readFile(join(dir, relative)).catch(ignoreMissing)
  }

  async function removeQuietly(relative: string): Promise<void> {
    await fs.unlink(join(dir, relative)).catch(() => undefined)
  }

  // One writer at a time within this store object, then the lock file across processes.
  let queue: Promise<unknown> = Promise.resolve()
  function withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(async () => {
      await fs.mkdir(dir)
      const lock = await acquireLock(lockPath, {
        fs,
        timeoutMs: options.lockTimeoutMs,
        staleMs: options.staleLockMs
      })
      try {
        return await fn()
      } finally {
        await lock.release()
      }
    })
    queue = run.catch(() => undefined)
    return run
  }

  /** Writes an export under a new name; returns that name relative to the store directory. */
  async function writeExport(relativeDir: string, prefix: string, text: string): Promise<string> {
    if (typeof text !== 'string') {
      throw new KugetsuError('invalid-input', 'a session export must be a string')
    }
    await fs.mkdir(join(dir, relativeDir))
    const name = `${prefix}.${newToken()}.json`
    await writeFileAtomic(join(dir, relativeDir, name), text, fs)
    return name
  }

  async function listDir(relative: string): Promise<string[]> {
    const names = await fs.readdir(join(dir, relative)).catch(ignoreMissing)
    if (names === undefined) return []
    const files: string[] = []
    for (const name of names) {
      const stat = await fs.stat(join(dir, relative, name)).catch(ignoreMissing)
      if (stat?.isFile()) files.push(relative === '' ? name : join(relative, name))
    }
    return files.sort()
  }

  /** Orphans given the index; only meaningful under the lock (temporary files are then stale). */
  async function orphans(index: IndexFile): Promise<string[]> {
    const referenced = new Set<string>()
    if (index.base) referenced.add(baseExportFile(index.base))
    for (const [key, record] of Object.entries(index.issues)) {
      referenced.add(issueExportFile(key, record))
    }
    const found: string[] = []
    for (const file of await listDir('')) {
      const ours = file === LEGACY_BASE_EXPORT || BASE_EXPORT.test(file) || isTempFileName(file)
      if (ours && !referenced.has(file)) found.push(file)
    }
    for (const file of await listDir(ISSUES)) {
      const ours = file.endsWith('.json') || isTempFileName(file)
      if (ours && !referenced.has(file)) found.push(file)
    }
    return found.sort()
  }

  async function dirExists(): Promise<boolean> {
    return (await fs.stat(dir).catch(ignoreMissing)) !== undefined
  }

  const store: LocalStore = {
    dir,

    async getBase() {
      const { base } = await readIndex()
      return base ? publicBase(base) : undefined
    },

    async readBaseExport() {
      for (let attempt = 0; ; attempt++) {
        const { base } = await readIndex()
        if (!base) return undefined
        const text = await readText(baseExportFile(base))
        if (text !== undefined || attempt === 2) return text
        // Superseded between reading the index and the file? Look again.
        const again = (await readIndex()).base
        if (!again || baseExportFile(again) === baseExportFile(base)) return undefined
      }
    },

    async putBase(record, sessionExport) {
      const stored = toStoredBase(record)
      await withLock(async () => {
        const index = await readIndex()
        const name = await writeExport('', 'base', sessionExport)
        const previous = index.base
        try {
          await writeIndex({ ...index, base: { ...stored, exportFile: name } })
        } catch (error) {
          await removeQuietly(name)
          throw error
        }
        if (previous && baseExportFile(previous) !== name) {
          await removeQuietly(baseExportFile(previous))
        }
      })
    },

    async deleteBase() {
      await withLock(async () => {
        const index = await readIndex()
        if (!index.base) return
        await writeIndex({ ...index, base: null })
        await removeQuietly(baseExportFile(index.base))
      })
    },

    async getIssue(ref) {
      const key = canonicalKey(ref)
      const { issues } = await readIndex()
      return Object.hasOwn(issues, key) ? publicIssue(issues[key]) : undefined
    },

    async readIssueExport(ref) {
      const key = canonicalKey(ref)
      const lookup = async () => {
        const { issues } = await readIndex()
        return Object.hasOwn(issues, key) ? issueExportFile(key, issues[key]) : undefined
      }
      for (let attempt = 0; ; attempt++) {
        const file = await lookup()
        if (file === undefined) return undefined
        const text = await readText(file)
        if (text !== undefined || attempt === 2) return text
        // Superseded between reading the index and the file? Look again.
        if ((await lookup()) === file) return undefined
      }
    },

    async putIssueRecord(record) {
      const stored = toStoredIssue(record)
      await withLock(async () => {
        const index = await readIndex()
        const exportFile = Object.hasOwn(index.issues, stored.ref)
          ? index.issues[stored.ref].exportFile
          : undefined
        index.issues[stored.ref] = exportFile === undefined ? stored : { ...stored, exportFile }
        await writeIndex(index)
      })
    },

    async putIssue(record, sessionExport) {
      const stored = toStoredIssue(record)
      const key = stored.ref
      await withLock(async () => {
        const index = await readIndex()
        const previous = Object.hasOwn(index.issues, key) ? index.issues[key] : undefined
        const name = await writeExport(ISSUES, refFileStem(parseIssueRef(key)), sessionExport)
        index.issues[key] = { ...stored, exportFile: name }
        try {
          await writeIndex(index)
        } catch (error) {
          await removeQuietly(join(ISSUES, name))
          throw error
        }
        if (previous) await removeQuietly(issueExportFile(key, previous))
      })
    },

    async deleteIssue(ref) {
      const key = canonicalKey(ref)
      if (!(await dirExists())) return
      await withLock(async () => {
        const index = await readIndex()
        if (!Object.hasOwn(index.issues, key)) return
        const record = index.issues[key]
        delete index.issues[key]
        await writeIndex(index)
        await removeQuietly(issueExportFile(key, record))
      })
    },

    async listIssues() {
      const { issues } = await readIndex()
      return Object.keys(issues)
        .sort()
        .map((key) => publicIssue(issues[key]))
    },

    async listExportFiles() {
      return listDir(ISSUES)
    },

    async listOrphanFiles() {
      if (!(await dirExists())) return []
      return withLock(async () => orphans(await readIndex()))
    },

    async removeFiles(files) {
      if (files.length === 0 || !(await dirExists())) return
      await withLock(async () => {
        const current = new Set(await orphans(await readIndex()))
        for (const file of files) if (current.has(file)) await removeQuietly(file)
      })
    },

    async prune(pruneOptions = {}) {
      const report: PruneReport = { removed: [], kept: [], orphanFiles: [] }
      if (!(await dirExists())) return report
      return withLock(async () => {
        const index = await readIndex()
        const doomed: string[] = []
        for (const key of Object.keys(index.issues).sort()) {
          const record = index.issues[key]
          let reason: string | undefined
          if (record.sessionId === null) {
            reason = 'first run never completed'
          } else {
            const text = await readText(issueExportFile(key, record))
            if (text === undefined) reason = 'session export missing'
            else if (!isValidJson(text)) reason = 'session export unreadable'
          }
          if (reason === undefined) continue
          if (record.pending && !pruneOptions.force) {
            report.kept.push({
              ref: key,
              reason: `${reason}; a run began ${record.pending.startedAt}`
            })
            continue
          }
          report.removed.push({ ref: key, reason })
          doomed.push(key)
        }
        const remaining: IndexFile = { ...index, issues: { ...index.issues } }
        for (const key of doomed) delete remaining.issues[key]
        report.orphanFiles = await orphans(remaining)
        if (pruneOptions.dryRun) return report
        if (doomed.length > 0) await writeIndex(remaining)
        for (const file of report.orphanFiles) await removeQuietly(file)
        return report
      })
    }
  }
  return store
}

/** Prunes a local store (see LocalStore.prune). */
export function pruneLocalStore(
  store: LocalStore,
  options: PruneOptions = {}
): Promise<PruneReport> {
  return store.prune(options)
}
