import { describe, expect, it } from '@jest/globals'
import { listingFromEntries, type CacheEntryInfo } from '../src/action/sessions/listing.js'

const MAIN = 'refs/heads/main'
const entry = (
  key: string,
  createdAt: string,
  sizeBytes = 100,
  id = 1,
  ref = MAIN
): CacheEntryInfo => ({
  id,
  key,
  ref,
  createdAt,
  lastAccessedAt: createdAt,
  sizeBytes
})

describe('listingFromEntries', () => {
  const refOf = (n: number) => `github.com/o/r#${n}`

  it('groups entries by issue, newest first, reading turns and session from the key', () => {
    const listing = listingFromEntries(
      [
        entry('kugetsu-v1-issue-7-100-1-t1-ses_abc', '2026-11-01T00:00:00Z'),
        entry('kugetsu-v1-issue-7-101-1-t2-ses_abc', '2026-11-02T00:00:00Z', 200),
        entry('kugetsu-v1-issue-70-102-2-t1-ses_xyz', '2026-11-03T00:00:00Z'),
        entry('kugetsu-v1-base-0123456789abcdef-99-1', '2026-10-01T00:00:00Z'),
        entry('kugetsu-v1-opencode-1.18.33-linux-x64-1-1', '2026-10-01T00:00:00Z'),
        entry('other-v1-issue-7-1-1-t9-ses_zzz', '2026-11-05T00:00:00Z')
      ],
      { prefix: 'kugetsu-v1', scopeRef: MAIN },
      refOf
    )
    expect(listing.sessions).toEqual([
      expect.objectContaining({
        ref: refOf(7),
        sessionId: 'ses_abc',
        turns: 2,
        sizeBytes: 200,
        olderEntries: 1
      }),
      expect.objectContaining({ ref: refOf(70), sessionId: 'ses_xyz', turns: 1, olderEntries: 0 })
    ])
    expect(listing.base.map((b) => b.key)).toEqual(['kugetsu-v1-base-0123456789abcdef-99-1'])
  })

  it('reads lowercased keys (Gitea, Forgejo)', () => {
    const listing = listingFromEntries(
      [entry('kugetsu-v1-issue-3-5-1-t4-ses_0a1b', '2026-11-01T00:00:00Z')],
      { prefix: 'KUGETSU-V1'.toLowerCase(), scopeRef: MAIN },
      refOf
    )
    expect(listing.sessions[0]).toMatchObject({ turns: 4, sessionId: 'ses_0a1b' })
  })

  it('lists the default branch’s entries only: a newer entry of another scope is not shown', () => {
    const listing = listingFromEntries(
      [
        entry('kugetsu-v1-issue-7-100-1-t2-ses_live', '2026-11-01T00:00:00Z', 100, 1),
        entry(
          'kugetsu-v1-issue-7-200-1-t9-ses_pull',
          '2026-11-09T00:00:00Z',
          100,
          2,
          'refs/pull/12/merge'
        ),
        entry(
          'kugetsu-v1-issue-8-201-1-t1-ses_branch',
          '2026-11-09T00:00:00Z',
          100,
          3,
          'refs/heads/x'
        ),
        entry(
          'kugetsu-v1-base-0123456789abcdef-202-1',
          '2026-11-09T00:00:00Z',
          100,
          4,
          'refs/pull/12/merge'
        ),
        entry('kugetsu-v1-issue-9-203-1-t1-ses_noref', '2026-11-09T00:00:00Z', 100, 5, ''),
        entry('other-issue-9-204-1-t1-ses_x', '2026-11-09T00:00:00Z', 100, 6, 'refs/heads/x')
      ],
      { prefix: 'kugetsu-v1', scopeRef: MAIN },
      refOf
    )
    expect(listing.sessions).toEqual([
      expect.objectContaining({ ref: refOf(7), sessionId: 'ses_live', turns: 2, olderEntries: 0 })
    ])
    expect(listing.base).toEqual([])
    expect(listing.otherScopes).toBe(4)
  })
})
