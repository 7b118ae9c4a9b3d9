/** Gitea's and Forgejo's drafts are WIP titles: how kugetsu writes and reads them. */
import { describe, expect, it } from '@jest/globals'
import { draftTitle } from '../src/action/github/gitea-work.js'
import { isWipTitle, pullRequestInfo } from '../src/action/work/pull-request-info.js'

const pull = (over: Record<string, unknown>) => ({
  number: 3,
  state: 'open',
  title: 'Add notes',
  html_url: 'https://forge.example.test/acme/widgets/pulls/3',
  head: { ref: 'kugetsu/issue-7', sha: 'a'.repeat(40), repo: { full_name: 'acme/widgets' } },
  base: { ref: 'main' },
  ...over
})

describe('drafts on Gitea and Forgejo', () => {
  it('opens a draft with a WIP: title, once', () => {
    expect(draftTitle('Add notes')).toBe('WIP: Add notes')
    expect(draftTitle('WIP: Add notes')).toBe('WIP: Add notes')
    expect(draftTitle('[wip] Add notes')).toBe('[wip] Add notes')
  })

  it('knows the default prefixes, in any case', () => {
    expect(isWipTitle('wip: x')).toBe(true)
    expect(isWipTitle('  [WIP] x')).toBe(true)
    expect(isWipTitle('Wipe the cache')).toBe(false)
  })

  it('reads draft from `draft` when the forge says it, else from the title', () => {
    expect(pullRequestInfo(pull({ title: 'WIP: Add notes' })).draft).toBe(true)
    expect(pullRequestInfo(pull({ title: 'WIP: Add notes', draft: false })).draft).toBe(false)
    expect(pullRequestInfo(pull({ draft: true })).draft).toBe(true)
    expect(pullRequestInfo(pull({})).draft).toBe(false)
  })

  it('a fork’s head (another repository) and a deleted fork read as such', () => {
    const fork = pull({
      head: { ref: 'kugetsu/issue-7', sha: 'b'.repeat(40), repo: { full_name: 'mallory/widgets' } }
    })
    expect(pullRequestInfo(fork).headRepo).toBe('mallory/widgets')
    const gone = pull({ head: { ref: 'refs/pull/3/head', sha: 'b'.repeat(40), repo: null } })
    expect(pullRequestInfo(gone).headRepo).toBeNull()
  })
})
