import { describe, expect, it } from '@jest/globals'
import type { NewPullRequest } from '../src/action/github/github.js'
import type { PullRequestInfo } from '../src/action/work/pull-request-info.js'
import {
  ensurePullRequest,
  pullRequestBody,
  type PullRequestRequest
} from '../src/action/work/pull-request.js'

const pull = (over: Partial<PullRequestInfo> = {}): PullRequestInfo => ({
  number: 40,
  state: 'open',
  merged: false,
  draft: true,
  title: 'Add a notes file',
  htmlUrl: 'https://github.com/o/r/pull/40',
  headRef: 'kugetsu/issue-7',
  headSha: 'a'.repeat(40),
  headRepo: 'o/r',
  baseRef: 'main',
  ...over
})

/** A GitHub that has `open` pull requests and answers each create with the next of `creates`. */
function fakeGitHub(open: PullRequestInfo[], creates: Array<Error | PullRequestInfo> = []) {
  const asked: Array<{ branch: string; state: string }> = []
  const created: NewPullRequest[] = []
  return {
    asked,
    created,
    pullRequestsFrom(branch: string, state: 'open' | 'all') {
      asked.push({ branch, state })
      return Promise.resolve(open)
    },
    createPullRequest(request: NewPullRequest) {
      created.push(request)
      const next = creates.shift()
      if (next === undefined) return Promise.reject(new Error('unexpected createPullRequest'))
      if (next instanceof Error) return Promise.reject(next)
      return Promise.resolve({ ...next, draft: request.draft })
    }
  }
}

const request = (over: Partial<PullRequestRequest> = {}): PullRequestRequest => ({
  mode: 'draft',
  branch: 'kugetsu/issue-7',
  base: 'main',
  issue: { number: 7, title: 'Add a notes file' },
  pushed: true,
  mayOpen: true,
  ...over
})

/** An error as Octokit words a 422 of `POST /pulls`. */
const validation = (message: string) =>
  new Error(
    `Validation Failed: {"resource":"PullRequest","code":"custom","message":"${message}"} - https://docs.github.com/rest/pulls/pulls#create-a-pull-request`
  )

describe('ensurePullRequest', () => {
  it('nothing pushed, ever: asks nothing and opens nothing', async () => {
    const github = fakeGitHub([])
    expect(await ensurePullRequest(github, request({ pushed: false }))).toBeUndefined()
    expect(github.asked).toEqual([])
    expect(github.created).toEqual([])
  })

  it('a turn that pushed nothing reports the open pull request but opens none', async () => {
    const github = fakeGitHub([])
    expect(await ensurePullRequest(github, request({ mayOpen: false }))).toBeUndefined()
    expect(github.asked).toEqual([{ branch: 'kugetsu/issue-7', state: 'open' }])
    expect(github.created).toEqual([])
    const open = fakeGitHub([pull({ number: 41 })])
    expect(await ensurePullRequest(open, request({ mayOpen: false }))).toEqual({
      pull: pull({ number: 41 })
    })
  })

  it("reuses the branch's open pull request, whatever the mode", async () => {
    for (const mode of ['draft', 'ready', 'none'] as const) {
      const github = fakeGitHub([pull({ number: 41 })])
      expect(await ensurePullRequest(github, request({ mode }))).toEqual({
        pull: pull({ number: 41 })
      })
      expect(github.asked).toEqual([{ branch: 'kugetsu/issue-7', state: 'open' }])
      expect(github.created).toEqual([])
    }
  })

  it('none open: opens a draft from the branch to the base, closing the issue', async () => {
    const github = fakeGitHub([], [pull()])
    const result = await ensurePullRequest(github, request())
    expect(result).toEqual({ pull: pull({ draft: true }) })
    expect(github.created).toEqual([
      {
        title: 'Add a notes file',
        head: 'kugetsu/issue-7',
        base: 'main',
        body: pullRequestBody(7, 'kugetsu/issue-7'),
        draft: true
      }
    ])
    expect(github.created[0].body).toMatch(/^Closes #7\n/)
  })

  it('ready: opens it ready for review', async () => {
    const github = fakeGitHub([], [pull()])
    const result = await ensurePullRequest(github, request({ mode: 'ready' }))
    expect(result?.pull?.draft).toBe(false)
    expect(github.created.map((created) => created.draft)).toEqual([false])
  })

  it('none: opens none', async () => {
    const github = fakeGitHub([])
    expect(await ensurePullRequest(github, request({ mode: 'none' }))).toBeUndefined()
    expect(github.created).toEqual([])
  })

  it('an issue without a title gets a title all the same', async () => {
    const github = fakeGitHub([], [pull()])
    await ensurePullRequest(github, request({ issue: { number: 7, title: '  ' } }))
    expect(github.created[0].title).toBe('kugetsu: #7')
  })

  it('"No commits between": nothing to merge, so no pull request and no note', async () => {
    const github = fakeGitHub([], [validation('No commits between main and kugetsu/issue-7')])
    expect(await ensurePullRequest(github, request())).toBeUndefined()
    expect(github.created).toHaveLength(1)
  })

  it('drafts not available: opened ready for review instead, and the reply says so', async () => {
    const github = fakeGitHub(
      [],
      [validation('Draft pull requests are not supported in this repository.'), pull()]
    )
    const result = await ensurePullRequest(github, request())
    expect(github.created.map((created) => created.draft)).toEqual([true, false])
    expect(result?.pull?.draft).toBe(false)
    expect(result?.note).toMatch(/Draft pull requests are not available/)
  })

  it('a "draft" complaint of a ready pull request is not retried', async () => {
    const error = validation('Draft pull requests are not supported in this repository.')
    const github = fakeGitHub([], [error])
    await expect(ensurePullRequest(github, request({ mode: 'ready' }))).rejects.toBe(error)
    expect(github.created).toHaveLength(1)
  })

  it('Actions may not create pull requests: a note saying where to allow it, no throw', async () => {
    const github = fakeGitHub(
      [],
      [new Error('GitHub Actions is not permitted to create or approve pull requests.')]
    )
    const result = await ensurePullRequest(github, request())
    expect(result?.pull).toBeUndefined()
    expect(result?.note).toContain('Allow GitHub Actions to create and approve pull requests')
    expect(result?.note).toContain('`kugetsu/issue-7`')
  })

  it('any other failure is thrown for the caller to report', async () => {
    const error = new Error('Server Error')
    const github = fakeGitHub([], [error])
    await expect(ensurePullRequest(github, request())).rejects.toBe(error)
  })
})
