/**
 * What an issue's turns have spent, kept in its record so budgets can be held across runs:
 * totals over every turn, and the latest turns one by one (bounded, so the record stays small).
 */
import type { IssueRecord, TokenUsage } from './types.js'

/** How many of the latest turns the ledger keeps one by one. */
export const LEDGER_RECENT_TURNS = 20

export interface LedgerTurn {
  /** The turn's number (the record's `turns` after it); a stopped turn keeps the previous one. */
  turn: number
  /** When it ended (ISO 8601). */
  at: string
  tokens: TokenUsage
  /** USD, as opencode reports it. */
  cost: number
  /** Set when the turn was stopped and its session not kept (the cost ceiling). */
  stopped?: 'budget'
}

export interface Ledger {
  /** Turns counted, stopped ones included. */
  turns: number
  tokens: TokenUsage
  cost: number
  /** The latest turns, oldest first, at most LEDGER_RECENT_TURNS. */
  recent: LedgerTurn[]
}

const ZERO: TokenUsage = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }

/** A count read from a stored record: anything but a finite non-negative number is 0. */
const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0

function tokensOf(value: Partial<TokenUsage> | undefined): TokenUsage {
  return {
    input: count(value?.input),
    output: count(value?.output),
    reasoning: count(value?.reasoning),
    cacheRead: count(value?.cacheRead),
    cacheWrite: count(value?.cacheWrite)
  }
}

function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite
  }
}

/**
 * What the issue spent so far. A record saved before the ledger existed knows only its last
 * turn's spending (`partial`).
 */
export function spentSoFar(record: IssueRecord | undefined): Omit<Ledger, 'recent'> & {
  partial: boolean
} {
  if (!record) return { turns: 0, tokens: { ...ZERO }, cost: 0, partial: false }
  const ledger = record.ledger
  if (ledger) {
    return {
      turns: count(ledger.turns),
      tokens: tokensOf(ledger.tokens),
      cost: count(ledger.cost),
      partial: false
    }
  }
  return {
    turns: count(record.turns),
    tokens: tokensOf(record.lastTokens),
    cost: count(record.lastCost),
    partial: count(record.turns) > 1
  }
}

/** The ledger with one more turn. */
export function addTurn(record: IssueRecord | undefined, turn: LedgerTurn): Ledger {
  const so = spentSoFar(record)
  const entry = { ...turn, tokens: tokensOf(turn.tokens), cost: count(turn.cost) }
  const recent = Array.isArray(record?.ledger?.recent) ? record.ledger.recent : []
  return {
    turns: so.turns + 1,
    tokens: addTokens(so.tokens, entry.tokens),
    cost: so.cost + entry.cost,
    recent: [...recent, entry].slice(-LEDGER_RECENT_TURNS)
  }
}
