import { describe, expect, it } from '@jest/globals'
import { isKugetsuError } from '../src/errors.js'
import { pullRequestInfo, type PullRequestInfo } from '../src/action/work/pull-request-info.js'
import {
  DEFAULT_BRANCH_PREFIX,
  conflictBranch,
  isSafeBranchName,
  issueBranch,
  issueOfBranch,
  planWork,
  validateBranchPrefix
} from '../src/action/work/target.js'

const P = DEFAULT_BRANCH_PREFIX

/** A pull request as `GET /repos/{o}/{r}/pulls/{n}` returns it (the fields kugetsu reads). */
const apiPull = (over: Record<string, unknown> = {}) => ({
  url: 'https://api.github.com/repos/o/r/pulls/12',
  number: 12,
  state: 'open',
  locked: false,
  title: 'Fix the build',
  html_url: 'https://github.com/o/r/pull/12',
  draft: false,
  merged: false,
  merged_at: null,
  user: { login: 'alice', id: 1 },
  head: {
    label: 'o:fix',
    ref: 'fix',
    sha: 'a'.repeat(40),
    repo: { full_name: 'o/r', name: 'r', owner: { login: 'o' } }
  },
  base: { label: 'o:main', ref: 'main', sha: 'b'.repeat(40), repo: { full_name: 'o/r' } },
  ...over
})

const pull = (over: Partial<PullRequestInfo> = {}): PullRequestInfo => ({
  number: 12,
  state: 'open',
  merged: false,
  draft: false,
  title: 'Fix the build',
  htmlUrl: 'https://github.com/o/r/pull/12',
  headRef: 'fix',
  headSha: 'a'.repeat(40),
  headRepo: 'o/r',
  baseRef: 'main',
  ...over
})

const base = { push: true, prefix: P, repoFullName: 'o/r', issueNumber: 12 }

describe('pullRequestInfo', () => {
  it('reads the REST shape', () => {
    expect(pullRequestInfo(apiPull())).toEqual(pull())
  })

  it('a deleted fork has no head repository', () => {
    expect(
      pullRequestInfo(apiPull({ head: { ref: 'x', sha: 'c'.repeat(40), repo: null } }))
    ).toMatchObject({
      headRepo: null,
      headRef: 'x'
    })
  })

  it('merged comes from merged, else from merged_at; draft defaults to false', () => {
    expect(pullRequestInfo(apiPull({ state: 'closed', merged: true }))).toMatchObject({
      state: 'closed',
      merged: true
    })
    const listed = apiPull({ state: 'closed', merged_at: '2026-01-01T00:00:00Z' }) as Record<
      string,
      unknown
    >
    delete listed.merged
    delete listed.draft
    expect(pullRequestInfo(listed)).toMatchObject({ merged: true, draft: false })
  })

  it.each([
    ['not an object', 'x'],
    ['null', null],
    ['a number that is not one', apiPull({ number: '12' })],
    ['an unknown state', apiPull({ state: 'weird' })],
    ['no head', apiPull({ head: undefined })],
    [
      'a head ref that is not a string',
      apiPull({ head: { ref: 5, sha: 'a'.repeat(40), repo: null } })
    ],
    ['no base', apiPull({ base: null })]
  ])('refuses %s', (_, json) => {
    let caught: unknown
    try {
      pullRequestInfo(json)
    } catch (error) {
      caught = error
    }
    expect(isKugetsuError(caught, 'invalid-response')).toBe(true)
  })
})

describe('issue branches', () => {
  it('names the issue and conflict branches', () => {
    expect(issueBranch(P, 7)).toBe('kugetsu/issue-7')
    expect(conflictBranch(P, 7, '123456')).toBe('kugetsu/issue-7-conflict-123456')
    expect(issueBranch('bots-', 7)).toBe('bots-issue-7')
  })

  it('reads an issue number back only from the exact form', () => {
    expect(issueOfBranch(P, 'kugetsu/issue-7')).toBe(7)
    expect(issueOfBranch(P, 'kugetsu/issue-123456')).toBe(123456)
    for (const branch of [
      'kugetsu/issue-07',
      'kugetsu/issue-0',
      'kugetsu/issue-7-conflict-3',
      'kugetsu/issue-7/x',
      'kugetsu/issue-7 ',
      'kugetsu/issue-',
      'kugetsu/issue-+7',
      'kugetsu/issue-7e2',
      'kugetsu/Issue-7',
      'Kugetsu/issue-7',
      'other/issue-7',
      'x/kugetsu/issue-7',
      'issue-7',
      'kugetsu/issue-99999999999999999999'
    ]) {
      expect([branch, issueOfBranch(P, branch)]).toEqual([branch, undefined])
    }
  })

  it('treats regular-expression characters in the prefix literally', () => {
    expect(issueOfBranch('a.b/', 'a.b/issue-3')).toBe(3)
    expect(issueOfBranch('a.b/', 'axb/issue-3')).toBeUndefined()
  })
})

describe('validateBranchPrefix', () => {
  it.each(['kugetsu/', 'bots/kugetsu/', 'kugetsu-', 'k_1.x/', 'x'])('accepts %p', (prefix) => {
    expect(validateBranchPrefix(prefix)).toBe(prefix)
  })

  it.each([
    ['empty', ''],
    ['a double dot', 'a..b/'],
    ['a space', 'my bots/'],
    ['a tilde', 'a~1/'],
    ['a caret', 'a^/'],
    ['a colon', 'a:b/'],
    ['a question mark', 'a?/'],
    ['an asterisk', 'a*/'],
    ['a bracket', 'a[/'],
    ['a backslash', 'a\\b/'],
    ['@{', 'a@{1}/'],
    ['a control character', 'a\u0001/'],
    ['a newline', 'a\n/'],
    ['DEL', 'a\u007f/'],
    ['a component starting with a dot', '.hidden/'],
    ['a later component starting with a dot', 'a/.b/'],
    ['a component ending in .lock', 'a.lock/'],
    ['a leading dash', '-c/'],
    ['a leading slash', '/kugetsu/'],
    ['a double slash', 'a//'],
    ['refs/', 'refs/heads/'],
    ['a backtick', 'a`b/'],
    ['a bidi override', 'a\u202eb/'],
    ['a zero-width space', 'a\u200bb/'],
    ['too long', 'a'.repeat(101)]
  ])('refuses %s', (_, prefix) => {
    let caught: unknown
    try {
      validateBranchPrefix(prefix)
    } catch (error) {
      caught = error
    }
    expect(isKugetsuError(caught, 'invalid-input')).toBe(true)
    expect((caught as Error).message).toMatch(/^branch-prefix /)
    expect((caught as Error).message).toMatch(/^[\x20-\x7e]+$/)
  })
})

describe('isSafeBranchName', () => {
  it.each([
    'main',
    'fix/build',
    'feature/x-1.2',
    'kugetsu/issue-7',
    'renovate/node-22.x',
    'a+b=c,d@e',
    '修正/ビルド',
    'fix#12'
  ])('accepts %p', (name) => expect(isSafeBranchName(name)).toBe(true))

  it.each([
    '',
    'HEAD',
    '@',
    '-f',
    '--upload-pack=evil',
    'a..b',
    'a.',
    'a/',
    '/a',
    'a//b',
    '.a',
    'a/.b',
    'a.lock',
    'a.lock/b',
    'a b',
    'a\tb',
    'a\nb',
    'a~b',
    'a^b',
    'a:b',
    'a?b',
    'a*b',
    'a[b',
    'a\\b',
    'a@{b',
    'a`b',
    "a'b",
    'a"b',
    'a$b',
    'a;b',
    'a|b',
    'a&b',
    'a<b',
    'a>b',
    'a(b)',
    'a{b}',
    'a!b',
    'refs/heads/main',
    'a\u202eb',
    'a\u200bb',
    'a\u00a0b',
    'a\u3000b',
    'x'.repeat(256)
  ])('refuses %j', (name) => expect(isSafeBranchName(name)).toBe(false))

  it('refuses what is not a string', () => {
    expect(isSafeBranchName(undefined as unknown as string)).toBe(false)
  })
})

describe('planWork', () => {
  it('a plain issue works on its own branch and continues its own session', () => {
    expect(planWork({ ...base, issueNumber: 7 })).toEqual({
      sessionNumber: 7,
      checkout: { kind: 'branch', branch: 'kugetsu/issue-7' },
      pushBranch: 'kugetsu/issue-7',
      untrustedConfig: false
    })
  })

  it('push: false leaves the workspace alone and pushes nothing', () => {
    expect(planWork({ ...base, push: false, issueNumber: 7 })).toEqual({
      sessionNumber: 7,
      untrustedConfig: false
    })
  })

  it("a comment on kugetsu's own pull request continues the issue's session on its branch", () => {
    const own = pull({ number: 12, headRef: 'kugetsu/issue-7' })
    expect(planWork({ ...base, pull: own })).toEqual({
      sessionNumber: 7,
      checkout: { kind: 'branch', branch: 'kugetsu/issue-7' },
      pushBranch: 'kugetsu/issue-7',
      untrustedConfig: false
    })
  })

  it("push: false still continues the issue's session from its own pull request", () => {
    const own = pull({ number: 12, headRef: 'kugetsu/issue-7' })
    expect(planWork({ ...base, push: false, pull: own })).toEqual({
      sessionNumber: 7,
      untrustedConfig: false
    })
  })

  it('the head repository is compared without regard to case', () => {
    const own = pull({ headRef: 'kugetsu/issue-7', headRepo: 'O/R' })
    expect(planWork({ ...base, pull: own })).toMatchObject({
      sessionNumber: 7,
      pushBranch: 'kugetsu/issue-7'
    })
  })

  it('a conflict branch or another prefix is an ordinary pull request of this repository', () => {
    const conflict = pull({ headRef: 'kugetsu/issue-7-conflict-99' })
    expect(planWork({ ...base, pull: conflict })).toEqual({
      sessionNumber: 12,
      checkout: { kind: 'branch', branch: 'kugetsu/issue-7-conflict-99' },
      pushBranch: 'kugetsu/issue-7-conflict-99',
      untrustedConfig: false
    })
    expect(
      planWork({ ...base, prefix: 'bots/', pull: pull({ headRef: 'kugetsu/issue-7' }) })
    ).toMatchObject({
      sessionNumber: 12
    })
  })

  it('another pull request of this repository continues its own session, pushing to its head', () => {
    expect(planWork({ ...base, pull: pull() })).toEqual({
      sessionNumber: 12,
      checkout: { kind: 'branch', branch: 'fix' },
      pushBranch: 'fix',
      untrustedConfig: false
    })
  })

  it("a fork's pull request is read through refs/pull/N/head, with none of its agent configuration", () => {
    const plan = planWork({
      ...base,
      pull: pull({ headRepo: 'mallory/r', headRef: 'kugetsu/issue-7' })
    })
    expect(plan).toMatchObject({
      sessionNumber: 12,
      checkout: { kind: 'pull', ref: 'refs/pull/12/head', number: 12 },
      untrustedConfig: true
    })
    expect(plan.pushBranch).toBeUndefined()
    expect(plan.readOnlyReason).toMatch(/#12 comes from a fork.*nothing was pushed/)
  })

  it('a pull request whose fork was deleted is treated as a fork', () => {
    const plan = planWork({ ...base, pull: pull({ headRepo: null }) })
    expect(plan).toMatchObject({
      sessionNumber: 12,
      checkout: { kind: 'pull', ref: 'refs/pull/12/head', number: 12 },
      untrustedConfig: true
    })
    expect(plan.pushBranch).toBeUndefined()
    expect(plan.readOnlyReason).toMatch(/head repository .*deleted/)
  })

  it('a repository whose name merely starts like ours is a fork', () => {
    const plan = planWork({ ...base, pull: pull({ headRepo: 'o/r2' }) })
    expect(plan).toMatchObject({ untrustedConfig: true })
    expect(plan.pushBranch).toBeUndefined()
  })

  it('a merged pull request is read through its pull ref (its branch may be gone) and nothing is pushed', () => {
    const plan = planWork({ ...base, pull: pull({ state: 'closed', merged: true }) })
    expect(plan).toEqual({
      sessionNumber: 12,
      checkout: { kind: 'pull', ref: 'refs/pull/12/head', number: 12 },
      untrustedConfig: false,
      readOnlyReason: expect.stringMatching(/^#12 is merged: .*nothing was pushed/)
    })
  })

  it("kugetsu's own merged pull request still continues the issue's session, read-only", () => {
    const plan = planWork({
      ...base,
      pull: pull({ state: 'closed', merged: true, headRef: 'kugetsu/issue-7' })
    })
    expect(plan).toMatchObject({
      sessionNumber: 7,
      checkout: { kind: 'pull', ref: 'refs/pull/12/head' }
    })
    expect(plan.pushBranch).toBeUndefined()
    expect(plan.readOnlyReason).toMatch(/^#12 is merged/)
  })

  it("a closed pull request is read-only too, its config trusted unless it is a fork's", () => {
    const closed = planWork({ ...base, pull: pull({ state: 'closed' }) })
    expect(closed).toMatchObject({
      checkout: { kind: 'pull', ref: 'refs/pull/12/head' },
      untrustedConfig: false
    })
    expect(closed.pushBranch).toBeUndefined()
    expect(closed.readOnlyReason).toMatch(/^#12 is closed: .*nothing was pushed/)
    const fork = planWork({ ...base, pull: pull({ state: 'closed', headRepo: 'm/r' }) })
    expect(fork).toMatchObject({
      checkout: { kind: 'pull', ref: 'refs/pull/12/head' },
      untrustedConfig: true
    })
    expect(fork.pushBranch).toBeUndefined()
  })

  it.each(['-f', '--upload-pack=x', 'a..b', 'x`id`', 'a\u202eb', 'refs/heads/main', 'HEAD'])(
    'an unsafe head name %j is never checked out by name nor pushed to',
    (headRef) => {
      const plan = planWork({ ...base, pull: pull({ headRef }) })
      expect(plan).toMatchObject({
        sessionNumber: 12,
        checkout: { kind: 'pull', ref: 'refs/pull/12/head', number: 12 }
      })
      expect(plan.pushBranch).toBeUndefined()
      expect(plan.readOnlyReason).toMatch(/branch name/)
      // The hostile name itself is not repeated to the user.
      expect(plan.readOnlyReason).not.toContain(headRef)
    }
  )

  it('an unsafe name that only looks like an issue branch does not continue that issue', () => {
    const plan = planWork({ ...base, pull: pull({ headRef: 'kugetsu/issue-7\n' }) })
    expect(plan.sessionNumber).toBe(12)
  })

  it('push: false on a fork checks out nothing, so nothing untrusted is loaded', () => {
    expect(planWork({ ...base, push: false, pull: pull({ headRepo: 'm/r' }) })).toEqual({
      sessionNumber: 12,
      untrustedConfig: false
    })
  })
})
