import { createHash } from 'node:crypto'
import { KugetsuError, errorMessage, isKugetsuError } from './errors.js'
import type { OpencodeDriver, RunRequest, RunResult, ToolProgress } from './opencode/types.js'
import type { BaseRecord, IssueRecord, StateStore } from './store/types.js'
import { addTurn } from './store/ledger.js'

export const DEFAULT_BASE_PROMPT = [
  'You are kugetsu, a coding agent that works on the GitHub issues of this repository.',
  'Each issue gets its own copy of this conversation, and every later message on that issue',
  'continues it, so you remember what was said and done before on the same issue.',
  'Read the repository before you answer, keep replies short and concrete, and say plainly',
  'when you cannot do something. Reply to this message with one word: ready.'
].join(' ')

export type TurnMode = 'start' | 'continue'

export interface EngineOptions {
  store: StateStore
  driver: OpencodeDriver
  /** The directory opencode works in (the repository checkout). */
  cwd: string
  model?: string
  agent?: string
  basePrompt?: string
  timeoutMs?: number
  /**
   * Import a session's export before running it. Right when opencode's data dir is known to be
   * fresh (a CI runner); otherwise the import happens only when opencode does not know the
   * session, which saves a process start per turn.
   */
  importBeforeRun?: boolean
  clock?: () => Date
  onSpawn?: (pid: number) => void
}

/** What a caller may follow of one turn while it runs. */
export interface TurnOptions {
  /** Stop the turn once it has cost this much (see RunRequest.maxCost). */
  maxCost?: number
  /** Each tool call opencode reports while the turn runs (see RunRequest.onProgress). */
  onProgress?: (step: ToolProgress) => void
}

export interface TurnOutcome {
  mode: TurnMode
  record: IssueRecord
  result: RunResult
}

export interface InitOutcome {
  base: BaseRecord
  result: RunResult
  replaced?: BaseRecord
}

export interface PruneOptions {
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean
  /** Also remove records that have a run pending (it may still be going). */
  force?: boolean
}

export interface PruneOutcome {
  removed: { ref: string; reason: string }[]
  kept: { ref: string; reason: string }[]
  orphanFiles: string[]
}

/** A store that can prune itself (records with a missing or unreadable export, orphan files). */
export interface PrunableStore extends StateStore {
  prune(options: PruneOptions): Promise<PruneOutcome>
}

export function hashPrompt(prompt: string): string {
  return createHash('sha256').update(prompt).digest('hex')
}

function isPrunable(store: StateStore): store is PrunableStore {
  return typeof (store as Partial<PrunableStore>).prune === 'function'
}

/**
 * The session model of kugetsu: one base session, one fork of it per issue, continued on every
 * later message. Refs given to the engine are canonical (`host/owner/repo#N`); callers parse.
 */
export class Engine {
  private readonly options: EngineOptions
  /** Sessions this engine created or imported: opencode knows them without an import. */
  private readonly present = new Set<string>()

  constructor(options: EngineOptions) {
    this.options = options
  }

  get basePrompt(): string {
    return this.options.basePrompt ?? DEFAULT_BASE_PROMPT
  }

  private now(): string {
    return (this.options.clock?.() ?? new Date()).toISOString()
  }

  private request(message: string, extra: Partial<RunRequest> = {}): RunRequest {
    const { cwd, model, agent, timeoutMs, onSpawn } = this.options
    return { message, cwd, model, agent, timeoutMs, onSpawn, ...extra }
  }

  async init(options: { force?: boolean } = {}): Promise<InitOutcome> {
    const { store, driver, cwd } = this.options
    const existing = await store.getBase()
    if (existing && !options.force) {
      throw new KugetsuError(
        'base-exists',
        `a base session already exists (${existing.sessionId}); use --force to replace it`
      )
    }
    const result = await driver.run(this.request(this.basePrompt, { title: 'kugetsu base' }))
    this.present.add(result.sessionId)
    const sessionExport = await driver.exportSession(result.sessionId, cwd)
    const base: BaseRecord = {
      sessionId: result.sessionId,
      createdAt: this.now(),
      promptHash: hashPrompt(this.basePrompt),
      ...(this.options.model ? { model: this.options.model } : {})
    }
    await store.putBase(base, sessionExport)
    return { base, result, ...(existing ? { replaced: existing } : {}) }
  }

  async start(ref: string, message: string): Promise<TurnOutcome> {
    const previous = await this.options.store.getIssue(ref)
    if (previous?.sessionId) {
      throw new KugetsuError(
        'already-started',
        `${ref} already has a session (${previous.sessionId}); use continue`
      )
    }
    return this.turn(ref, message, 'start', previous)
  }

  async continue(ref: string, message: string): Promise<TurnOutcome> {
    const previous = await this.options.store.getIssue(ref)
    if (!previous?.sessionId) {
      throw new KugetsuError('not-found', `${ref} has no session yet; use start`)
    }
    return this.turn(ref, message, 'continue', previous)
  }

  /**
   * Starts the issue's session the first time, continues it afterwards. `maxCost`: stop the turn
   * once it has cost this much (see RunRequest.maxCost).
   */
  async run(ref: string, message: string, options: TurnOptions = {}): Promise<TurnOutcome> {
    const previous = await this.options.store.getIssue(ref)
    return this.turn(ref, message, previous?.sessionId ? 'continue' : 'start', previous, options)
  }

  async list(): Promise<{ base?: BaseRecord; issues: IssueRecord[] }> {
    const { store } = this.options
    const [base, issues] = await Promise.all([store.getBase(), store.listIssues()])
    issues.sort((a, b) => a.ref.localeCompare(b.ref))
    return { base, issues }
  }

  /** Removes records whose session export is missing or unreadable, and orphan files. */
  async prune(options: PruneOptions = {}): Promise<PruneOutcome> {
    const { store } = this.options
    if (!isPrunable(store))
      throw new KugetsuError('invalid-input', 'this state store cannot be pruned')
    return store.prune(options)
  }

  async destroy(ref: string): Promise<IssueRecord> {
    const { store } = this.options
    const record = await store.getIssue(ref)
    if (!record) throw new KugetsuError('not-found', `${ref} is not tracked`)
    await store.deleteIssue(ref)
    if (record.sessionId) await this.deleteSessionQuietly(record.sessionId)
    return record
  }

  async destroyBase(): Promise<BaseRecord> {
    const { store } = this.options
    const base = await store.getBase()
    if (!base) throw new KugetsuError('no-base', 'there is no base session')
    await store.deleteBase()
    await this.deleteSessionQuietly(base.sessionId)
    return base
  }

  private async deleteSessionQuietly(sessionId: string): Promise<void> {
    const { driver, cwd } = this.options
    try {
      await driver.deleteSession?.(sessionId, cwd)
    } catch {
      // The session only lives on in opencode's own database; kugetsu's state is already gone.
    }
  }

  private async turn(
    ref: string,
    message: string,
    mode: TurnMode,
    previous: IssueRecord | undefined,
    options: TurnOptions = {}
  ): Promise<TurnOutcome> {
    if (message.trim() === '') throw new KugetsuError('invalid-input', 'the message is empty')
    const { store, driver, cwd } = this.options

    let sessionId: string
    let sessionExport: string | undefined
    let baseSessionId: string
    if (mode === 'continue' && previous?.sessionId) {
      sessionId = previous.sessionId
      baseSessionId = previous.baseSessionId
    } else {
      const base = await store.getBase()
      if (!base) throw new KugetsuError('no-base', 'there is no base session yet; run init first')
      sessionId = base.sessionId
      baseSessionId = base.sessionId
    }

    const startedAt = this.now()
    const placeholder: IssueRecord = {
      ...(previous ?? {
        ref,
        sessionId: null,
        baseSessionId,
        createdAt: startedAt,
        updatedAt: startedAt,
        turns: 0
      }),
      pending: { startedAt, mode, pid: process.pid }
    }
    await store.putIssueRecord(placeholder)

    try {
      const fork = mode === 'start'
      const readExport = async (): Promise<string> => {
        sessionExport ??= fork ? await store.readBaseExport() : await store.readIssueExport(ref)
        if (sessionExport === undefined) {
          throw new KugetsuError(
            'corrupt-state',
            fork
              ? 'the base session export is missing; run init --force'
              : `the session export of ${ref} is missing; destroy ${ref} and start again`
          )
        }
        return sessionExport
      }
      const request = this.request(message, {
        sessionId,
        fork,
        title: fork ? ref : undefined,
        ...(options.maxCost === undefined ? {} : { maxCost: options.maxCost }),
        ...(options.onProgress ? { onProgress: options.onProgress } : {})
      })

      const importExport = async () => {
        await driver.importSession(await readExport(), cwd)
        this.present.add(sessionId)
      }
      const imported = this.options.importBeforeRun === true && !this.present.has(sessionId)
      if (imported) await importExport()
      let result: RunResult
      try {
        result = await driver.run(request)
      } catch (error) {
        if (imported || !isKugetsuError(error, 'unknown-session')) {
          throw error
        }
        await importExport()
        result = await driver.run(request)
      }
      this.present.add(result.sessionId)

      const newExport = await driver.exportSession(result.sessionId, cwd)
      const completed: IssueRecord = {
        ref,
        sessionId: result.sessionId,
        baseSessionId,
        createdAt: previous?.createdAt ?? startedAt,
        updatedAt: this.now(),
        turns: (previous?.sessionId ? previous.turns : 0) + 1,
        lastTokens: result.tokens,
        lastCost: result.cost
      }
      completed.ledger = addTurn(previous?.sessionId ? previous : undefined, {
        turn: completed.turns,
        at: completed.updatedAt,
        tokens: result.tokens,
        cost: result.cost
      })
      await store.putIssue(completed, newExport)
      return { mode, record: completed, result }
    } catch (error) {
      await this.restore(ref, previous, errorMessage(error))
      await this.rollbackSession(mode, sessionId, ref, error)
      throw error
    }
  }

  /**
   * opencode keeps what a failed turn wrote (the user's message at least) in its own database.
   * Where that database outlives this run, the issue's session is put back from the stored
   * export, and a fork the failed start made is deleted, so the next turn sees the old history.
   */
  private async rollbackSession(
    mode: TurnMode,
    sessionId: string,
    ref: string,
    error: unknown
  ): Promise<void> {
    if (this.options.importBeforeRun) return
    const { driver, store, cwd } = this.options
    const touched = (error as { result?: Partial<RunResult> }).result?.sessionId
    try {
      if (mode === 'continue') {
        const sessionExport = await store.readIssueExport(ref)
        if (sessionExport === undefined) return
        this.present.delete(sessionId)
        await driver.deleteSession?.(sessionId, cwd)
        await driver.importSession(sessionExport, cwd)
        this.present.add(sessionId)
      } else if (touched && touched !== sessionId) {
        await driver.deleteSession?.(touched, cwd)
      }
    } catch {
      // The stored export is intact; the next turn that finds the session unknown imports it.
    }
  }

  /** Puts back what existed before a failed run, noting the failure on it. */
  private async restore(
    ref: string,
    previous: IssueRecord | undefined,
    failure: string
  ): Promise<void> {
    const { store } = this.options
    try {
      if (previous) {
        const { pending: _pending, ...rest } = previous
        await store.putIssueRecord({ ...rest, lastError: failure })
      } else {
        await store.deleteIssue(ref)
      }
    } catch {
      // Leave the placeholder: it marks the failed run, and the previous export is untouched.
    }
  }
}
