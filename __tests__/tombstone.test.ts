import { describe, expect, it } from '@jest/globals'
import { listingFromEntries } from '../src/action/sessions/listing.js'
import { commentsSince, forgettingOf, tombstoneRecord } from '../src/action/sessions/tombstone.js'
import type { IssueRecord } from '../src/store/types.js'

const REF = 'github.com/o/r#7'
const KEY = 'kugetsu-v1-issue-7-5-1-forgotten'
const AT = '2026-11-30T05:00:00.000Z'

describe('a tombstone', () => {
  it('reads back as the forgetting it was made of', () => {
    const forgotten = { at: AT, by: 'jane.doe', reason: 'destroy' as const }
    const record = tombstoneRecord(REF, forgotten)
    expect(record).toMatchObject({ ref: REF, sessionId: null, turns: 0, forgotten })
    expect(forgettingOf(JSON.parse(JSON.stringify(record)) as IssueRecord, REF, KEY)).toEqual(
      forgotten
    )
  })

  it('a session record is no tombstone', () => {
    const record = { ...tombstoneRecord(REF, { at: AT, by: 'a', reason: 'reset' }) }
    delete record.forgotten
    expect(forgettingOf({ ...record, sessionId: 'ses_x' }, REF, KEY)).toBeUndefined()
  })

  // Anyone who can write the repository's caches can plant an entry; it forgets nothing unless
  // every field reads as kugetsu writes it.
  it.each([
    ['"forgotten" is not an object', { forgotten: 'yes' }],
    ['"forgotten" is not an object', { forgotten: null }],
    ['it holds a session', { sessionId: 'ses_planted' }],
    ['it is the tombstone of another issue', { ref: 'github.com/o/r#70' }],
    ['"at" is not a time', { forgotten: { at: 'soon', by: 'a', reason: 'destroy' } }],
    ['"by" is not a login', { forgotten: { at: AT, by: 'a\u202eb', reason: 'destroy' } }],
    ['"by" is not a login', { forgotten: { at: AT, by: '', reason: 'destroy' } }],
    ['"by" is not a login', { forgotten: { at: AT, by: 'x'.repeat(101), reason: 'destroy' } }],
    ['"reason" is unknown', { forgotten: { at: AT, by: 'a', reason: 'pwned' } }]
  ])('is refused when %s', (problem, change) => {
    const record = { ...tombstoneRecord(REF, { at: AT, by: 'a', reason: 'closed' }), ...change }
    expect(() => forgettingOf(record as IssueRecord, REF, KEY)).toThrow(
      expect.objectContaining({
        code: 'corrupt-state',
        message: expect.stringContaining(`(${KEY}) is a tombstone kugetsu cannot read (${problem})`)
      })
    )
  })

  it('lets through only the comments made after it', () => {
    const comments = [
      { id: 1, createdAt: '2026-11-30T04:59:59Z' },
      { id: 2, createdAt: AT },
      { id: 3, createdAt: '2026-11-30T05:00:01Z' }
    ]
    expect(commentsSince(comments, { at: AT, by: 'a', reason: 'destroy' })).toEqual([comments[2]])
  })

  it('as the newest entry of an issue, is listed as forgotten, not as a session', () => {
    const at = (day: number) => new Date(Date.UTC(2026, 10, day)).toISOString()
    const entry = (id: number, key: string, day: number) => ({
      id,
      key,
      ref: 'refs/heads/main',
      createdAt: at(day),
      lastAccessedAt: at(day),
      sizeBytes: 1
    })
    const listing = listingFromEntries(
      [
        entry(1, 'kugetsu-v1-issue-7-1-1-t1-ses_seven', 1),
        entry(2, KEY, 2),
        entry(3, 'kugetsu-v1-issue-8-2-1-forgotten', 1),
        entry(4, 'kugetsu-v1-issue-8-3-1-t1-ses_eight', 2)
      ],
      { prefix: 'kugetsu-v1', scopeRef: 'refs/heads/main' },
      (n) => `#${n}`
    )
    expect(listing.forgotten).toEqual([7])
    expect(listing.sessions).toEqual([
      expect.objectContaining({ number: 8, sessionId: 'ses_eight' })
    ])
  })
})
