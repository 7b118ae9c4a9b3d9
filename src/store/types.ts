import type { Ledger } from './ledger.js'

/** Token counts of one opencode turn, as reported by its step_finish events. */
export interface TokenUsage {
  input: number
  output: number
  reasoning: number
  cacheRead: number
  cacheWrite: number
}

/** A run that began and has not been completed: left behind by a crash, a kill or a timeout. */
export interface PendingRun {
  startedAt: string
  mode: 'start' | 'continue'
  pid?: number
}

export interface BaseRecord {
  sessionId: string
  createdAt: string
  /** Model the base was created with, `provider/model`, when one was given. */
  model?: string
  /** sha256 of the base prompt, so a changed prompt can be told from the same one. */
  promptHash: string
}

export interface IssueRecord {
  /** Canonical `host/owner/repo#N`. */
  ref: string
  /** Null only while the first turn of the issue has never completed. */
  sessionId: string | null
  baseSessionId: string
  createdAt: string
  updatedAt: string
  /** Completed turns. */
  turns: number
  lastTokens?: TokenUsage
  lastCost?: number
  /** Every turn's tokens and cost (see ledger.ts); absent in records saved before it existed. */
  ledger?: Ledger
  pending?: PendingRun
  /** One line describing the last failed run, cleared by the next success. */
  lastError?: string
  /** The branch the session works on and its head after the last turn (the action's turns). */
  work?: WorkRecord
  /**
   * Set only in a tombstone (sessionId null): the issue's session was forgotten, and the next turn
   * starts a fresh fork that is not given the thread before `at` (see action/sessions/forget.ts).
   */
  forgotten?: Forgetting
  /** What of the issue the session has seen, so each turn tells only what is new (the action's). */
  seen?: ConversationSeen
}

/** Saved after a successful turn only: a failed turn's news is told again. */
export interface ConversationSeen {
  /** The newest comment that existed when the last turn began (ids only grow), and its time. */
  commentId?: number
  commentAt?: string
  /** sha256 of the sanitised title and description the session was last told of. */
  titleHash?: string
  bodyHash?: string
}

export const FORGET_REASONS = ['destroy', 'reset', 'closed'] as const
export type ForgetReason = (typeof FORGET_REASONS)[number]

export interface Forgetting {
  /** ISO time the session was forgotten. */
  at: string
  /** Login of whoever asked (destroyed, reset or closed the issue). */
  by: string
  reason: ForgetReason
}

export interface WorkRecord {
  branch: string
  head: string
  /** Commits others pushed that the agent has not been told of (its commit was rebased onto them). */
  unseen?: { from: string; to: string }
}

/**
 * Where kugetsu keeps what it knows: the base, one record per issue, and the opencode export of
 * each session (the JSON `opencode export` prints), so a session can be imported anywhere.
 */
export interface StateStore {
  getBase(): Promise<BaseRecord | undefined>
  readBaseExport(): Promise<string | undefined>
  /** Replaces the base record and its export together. */
  putBase(record: BaseRecord, sessionExport: string): Promise<void>
  deleteBase(): Promise<void>

  getIssue(ref: string): Promise<IssueRecord | undefined>
  readIssueExport(ref: string): Promise<string | undefined>
  /** Writes the record only; an existing export is left as it is. */
  putIssueRecord(record: IssueRecord): Promise<void>
  /** Writes the export, then the record that points at it. */
  putIssue(record: IssueRecord, sessionExport: string): Promise<void>
  deleteIssue(ref: string): Promise<void>
  listIssues(): Promise<IssueRecord[]>
}
