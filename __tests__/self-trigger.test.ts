import { describe, expect, it } from '@jest/globals'
import { LONGEST_TURN_MS, turnRunningAt } from '../src/action/github/self-trigger.js'
import { workingBody } from '../src/action/github/tracking.js'
import { replyBody } from '../src/action/conversation/report.js'
import type { ThreadComment } from '../src/action/conversation/thread.js'

const T0 = Date.parse('2026-01-01T10:00:00Z')
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString()
const facts = {
  ref: 'github.com/o/r#1',
  mode: 'continue' as const,
  sessionId: 'ses_1',
  turns: 1,
  tokensInput: 1,
  tokensOutput: 1,
  cost: 0,
  durationMs: 1,
  runUrl: '',
  notes: [],
  work: {}
}
const reply = replyBody('done', facts)
let ids = 100
const comment = (
  author: string,
  body: string,
  created: number,
  updated = created
): ThreadComment => ({
  id: ids++,
  author,
  body,
  createdAt: at(created),
  updatedAt: at(updated)
})
const trigger = (author: string, minutes: number) => ({
  id: 1,
  author,
  createdAt: at(minutes)
})

describe('turnRunningAt', () => {
  it('finds the turn whose tracking comment (now its reply) spans the trigger, by the same account', () => {
    const turn = comment('Kugetsu-PAT', reply, 0, 10)
    expect(turnRunningAt(trigger('kugetsu-pat', 5), [turn])).toBe(turn)
    expect(turnRunningAt(trigger('kugetsu-pat', 10), [turn])).toBe(turn)
  })

  it('finds a turn still working, up to the longest a job runs', () => {
    const working = comment('kugetsu-pat', workingBody('', 'github.com/o/r#2'), 0)
    expect(turnRunningAt(trigger('kugetsu-pat', 1), [working])).toBe(working)
    const hours = LONGEST_TURN_MS / 60_000
    expect(turnRunningAt(trigger('kugetsu-pat', hours + 1), [working])).toBeUndefined()
  })

  it('lets the account ask after the turn, and others during it', () => {
    const turn = comment('kugetsu-pat', reply, 0, 10)
    expect(turnRunningAt(trigger('kugetsu-pat', 11), [turn])).toBeUndefined()
    expect(turnRunningAt(trigger('kugetsu-pat', -1), [turn])).toBeUndefined()
    expect(turnRunningAt(trigger('alice', 5), [turn])).toBeUndefined()
  })

  it('ignores unmarked comments, and a forged marker refuses only its forger', () => {
    const plain = comment('kugetsu-pat', 'just words', 0, 10)
    expect(turnRunningAt(trigger('kugetsu-pat', 5), [plain])).toBeUndefined()
    const forged = comment('mallory', workingBody(''), 0)
    expect(turnRunningAt(trigger('alice', 1), [forged])).toBeUndefined()
    expect(turnRunningAt(trigger('mallory', 1), [forged])).toBe(forged)
  })

  it('never counts the trigger itself, and refuses nothing on an unreadable date', () => {
    const self = { ...comment('kugetsu-pat', reply, 0, 10), id: 1 }
    expect(turnRunningAt(trigger('kugetsu-pat', 5), [self])).toBeUndefined()
    const turn = comment('kugetsu-pat', reply, 0, 10)
    expect(
      turnRunningAt({ id: 1, author: 'kugetsu-pat', createdAt: 'soon' }, [turn])
    ).toBeUndefined()
  })
})
