import { describe, expect, it } from '@jest/globals'
import { LEDGER_RECENT_TURNS, addTurn, spentSoFar } from '../src/store/ledger.js'
import type { IssueRecord } from '../src/store/types.js'

const tokens = (input: number, output: number) => ({
  input,
  output,
  reasoning: 0,
  cacheRead: 0,
  cacheWrite: 0
})
const record = (fields: Partial<IssueRecord> = {}): IssueRecord => ({
  ref: 'github.com/o/r#1',
  sessionId: 'ses_1',
  baseSessionId: 'ses_0',
  createdAt: '',
  updatedAt: '',
  turns: 1,
  ...fields
})

describe('ledger', () => {
  it('adds every turn to the totals and keeps only the latest turns one by one', () => {
    let current: IssueRecord | undefined
    for (let turn = 1; turn <= LEDGER_RECENT_TURNS + 5; turn++) {
      const ledger = addTurn(current, { turn, at: `t${turn}`, tokens: tokens(10, 1), cost: 0.5 })
      current = record({ turns: turn, ledger })
    }
    const ledger = current?.ledger
    expect(ledger?.turns).toBe(LEDGER_RECENT_TURNS + 5)
    expect(ledger?.cost).toBeCloseTo((LEDGER_RECENT_TURNS + 5) * 0.5)
    expect(ledger?.tokens.input).toBe((LEDGER_RECENT_TURNS + 5) * 10)
    expect(ledger?.recent).toHaveLength(LEDGER_RECENT_TURNS)
    expect(ledger?.recent[0].turn).toBe(6)
  })

  it('reads a record saved before the ledger as partial (its last turn only)', () => {
    const old = record({ turns: 3, lastTokens: tokens(5, 2), lastCost: 0.25 })
    expect(spentSoFar(old)).toEqual({ turns: 3, tokens: tokens(5, 2), cost: 0.25, partial: true })
    expect(spentSoFar(undefined)).toMatchObject({ turns: 0, cost: 0, partial: false })
  })

  it('counts nothing it cannot read: a damaged or hostile ledger never adds up to garbage', () => {
    const hostile = record({
      ledger: { turns: -4, cost: Number.NaN, tokens: { input: '9' }, recent: 'x' } as never
    })
    expect(spentSoFar(hostile)).toMatchObject({ turns: 0, cost: 0, tokens: tokens(0, 0) })
    const next = addTurn(hostile, { turn: 2, at: 't', tokens: tokens(1, 1), cost: 1 })
    expect(next).toMatchObject({ turns: 1, cost: 1, recent: [{ turn: 2 }] })
  })
})
