import { describe, expect, it } from '@jest/globals'
import {
  INDEX_FORMAT,
  MAX_INDEXED_ISSUES,
  parseSessionIndex,
  serializeSessionIndex,
  staleIssues,
  withIssue,
  type IndexedIssue
} from '../src/action/sessions/session-index.js'

const refOf = (n: number) => `github.com/o/r#${n}`
const NOW = Date.parse('2026-11-30T12:00:00Z')
const issue = (number: number, extra: Partial<IndexedIssue> = {}): IndexedIssue => ({
  number,
  ref: refOf(number),
  sessionId: `ses_${number}AbC`,
  turns: 2,
  lastUsedAt: '2026-11-29T10:00:00.000Z',
  ...extra
})
const text = (issues: unknown[]) => JSON.stringify({ format: INDEX_FORMAT, issues })
const parse = (issues: unknown[]) => parseSessionIndex(text(issues), refOf, NOW)

describe('a planted or damaged session index', () => {
  it('never names an issue of another repository, nor another number', () => {
    const read = parse([
      issue(1, { ref: 'github.com/evil/r#1' }),
      issue(2, { ref: refOf(3) }),
      issue(4)
    ])
    expect(read.issues.map((i) => i.number)).toEqual([4])
    expect(read.problems).toEqual([
      'issue 1 left out: "ref" is not #1 of this repository',
      'issue 2 left out: "ref" is not #2 of this repository'
    ])
  })

  it('leaves out facts that could carry markup or control characters into the summary', () => {
    const read = parse([
      issue(1, { sessionId: 'ses_x | <img src=x>' }),
      issue(2, { branch: 'kugetsu/2\n| injected |' }),
      issue(3, { branch: '../../etc' }),
      issue(4, { lastUsedAt: '2099-01-01T00:00:00Z' }),
      issue(5, { turns: -1 }),
      issue(6, { number: 6.5 } as Partial<IndexedIssue>),
      { ...issue(7), forgotten: { at: 'yesterday', by: 'x', reason: 'destroy' } },
      { ...issue(8), forgotten: { at: '2026-11-29T10:00:00Z', by: 'x', reason: 'destroy' } },
      'not an object',
      issue(9, { branch: 'kugetsu/issue-9' })
    ])
    expect(read.issues).toEqual([issue(9, { branch: 'kugetsu/issue-9' })])
    expect(read.problems).toHaveLength(9)
  })

  it('reads anything else as an empty index, never throwing', () => {
    for (const bad of [
      '',
      'null',
      '[]',
      '{"format":"x","issues":[]}',
      '{"format":"kugetsu-index-v1"}',
      '{'
    ]) {
      const read = parseSessionIndex(bad, refOf, NOW)
      expect(read.issues).toEqual([])
      expect(read.problems).toHaveLength(1)
    }
    expect(parseSessionIndex('x'.repeat(600 * 1024), refOf, NOW).problems).toEqual([
      'the index is too large'
    ])
  })

  it('keeps the newest of an issue listed twice, and reads at most the bound', () => {
    const read = parse([
      issue(1, { turns: 1 }),
      issue(1, { turns: 5, lastUsedAt: '2026-11-29T11:00:00Z' })
    ])
    expect(read.issues.map((i) => i.turns)).toEqual([5])
    const flood = parse(Array.from({ length: MAX_INDEXED_ISSUES + 5 }, (_, i) => issue(i + 1)))
    expect(flood.issues).toHaveLength(MAX_INDEXED_ISSUES)
    expect(flood.problems).toEqual(['5 issue(s) beyond the limit left out'])
  })
})

describe('updating the index', () => {
  it('round-trips, with the change in place of what the issue had', () => {
    const forgotten = { at: '2026-11-29T12:00:00.000Z', by: 'jane.doe', reason: 'closed' as const }
    const gone = issue(2, { sessionId: '', turns: 0, forgotten })
    const index = withIssue({ issues: [issue(1), issue(2)] }, gone)
    const read = parseSessionIndex(serializeSessionIndex(index), refOf, NOW)
    expect(read).toEqual({ issues: [issue(1), gone], problems: [] })
  })

  it('stays bounded, dropping the least recently used but never the change', () => {
    const full = {
      issues: Array.from({ length: MAX_INDEXED_ISSUES }, (_, i) =>
        issue(i + 1, { lastUsedAt: new Date(NOW - (i + 1) * 60_000).toISOString() })
      )
    }
    const change = issue(5000, { lastUsedAt: '2020-01-01T00:00:00Z' })
    const next = withIssue(full, change)
    expect(next.issues).toHaveLength(MAX_INDEXED_ISSUES)
    expect(next.issues.map((i) => i.number)).toContain(5000)
    expect(next.issues.map((i) => i.number)).not.toContain(MAX_INDEXED_ISSUES)
  })

  it('says which issues the cache will evict', () => {
    const index = { issues: [issue(1, { lastUsedAt: '2026-11-01T00:00:00Z' }), issue(2)] }
    expect(staleIssues(index, 7, NOW).map((i) => i.number)).toEqual([1])
  })
})
