import { describe, expect, it } from '@jest/globals'
import { stateKeys } from '../src/action/cache/cache-state.js'
import { caselessFact, factFromKey } from '../src/action/cache/key-facts.js'
import { keyPatterns, listingFromEntries } from '../src/action/sessions/listing.js'

const SESSION = 'ses_dd6cc6e04ffe70uhJlh5QwK5Fq'

describe('cache keys', () => {
  const keys = stateKeys('kugetsu-v1', '123456', '2')

  it('are all lowercase, whatever facts they carry', () => {
    const issue = keys.keyFor(keys.issueStream('7'), ['t3', SESSION])
    const base = keys.keyFor(keys.baseStream('ABCDEF0123456789FFFF'))
    for (const key of [issue, base]) expect(key).toBe(key.toLowerCase())
    expect(issue).toBe('kugetsu-v1-issue-7-123456-2-t3-ses_dd6cc6e04ffe70uh.jlh5.qw.k5.fq')
    expect(base).toBe('kugetsu-v1-base-abcdef0123456789-123456-2')
  })

  it('keep a session id whole through a server that lowercases them (Gitea, Forgejo)', () => {
    const key = keys.keyFor(keys.issueStream('7'), ['t3', SESSION]).toLowerCase()
    const match = keyPatterns('kugetsu-v1').issue.exec(key)
    expect(match?.[4] && factFromKey(match[4])).toBe(SESSION)
  })

  it('a caseless fact reads back as it was, dots and odd characters included', () => {
    for (const fact of [SESSION, 'a.B..c', '...Z', 'x', 'ABC']) {
      const segment = caselessFact(fact)
      expect(segment).toMatch(/^[a-z0-9_.]+$/)
      expect(factFromKey(segment)).toBe(fact)
    }
    expect(caselessFact('a/b c')).toBe('a_b_c')
  })

  it('keys of released versions (mixed case, no dots) still read as they were written', () => {
    const old = 'kugetsu-v1-issue-7-99-1-t2-ses_dd6cc6e04ffe70uhJlh5QwK5Fq'
    const listing = listingFromEntries(
      [
        {
          id: 1,
          key: old,
          ref: 'refs/heads/main',
          createdAt: '2026-11-01T00:00:00Z',
          lastAccessedAt: '2026-11-01T00:00:00Z',
          sizeBytes: 1
        }
      ],
      { prefix: 'kugetsu-v1', scopeRef: 'refs/heads/main' },
      (n) => `#${n}`
    )
    expect(listing.sessions).toEqual([
      expect.objectContaining({ number: 7, turns: 2, sessionId: SESSION })
    ])
  })
})
