import { describe, expect, it } from '@jest/globals'
import { deleteIssueBranch } from '../src/action/sessions/issue-branch.js'
import type { PullRequestInfo } from '../src/action/work/pull-request-info.js'

const HEAD = 'a'.repeat(40)
const LATER = 'b'.repeat(40)

const pull = (over: Partial<PullRequestInfo> = {}): PullRequestInfo => ({
  number: 40,
  state: 'closed',
  merged: true,
  draft: false,
  title: 'Add a notes file',
  htmlUrl: 'https://github.com/o/r/pull/40',
  headRef: 'bots/issue-7',
  headSha: HEAD,
  headRepo: 'o/r',
  baseRef: 'main',
  ...over
})

/** A repository whose branch is at `head` (undefined: none), with `pulls` from it, newest first. */
function fakeGitHub(head: string | undefined, pulls: PullRequestInfo[], deletes = true) {
  const deleted: string[] = []
  const asked: string[] = []
  return {
    deleted,
    asked,
    branchHead(branch: string) {
      asked.push(branch)
      return Promise.resolve(head)
    },
    pullRequestsFrom(_branch: string, state: 'open' | 'all') {
      return Promise.resolve(state === 'all' ? pulls : pulls.filter((p) => p.state === 'open'))
    },
    deleteBranch(branch: string) {
      deleted.push(branch)
      return Promise.resolve(deletes)
    }
  }
}

describe('deleteIssueBranch', () => {
  it('deletes the branch of a merged pull request that took it as it is', async () => {
    const github = fakeGitHub(HEAD, [pull()])
    expect(await deleteIssueBranch(github, 'bots/', 7)).toEqual({
      deleted: true,
      branch: 'bots/issue-7'
    })
    expect(github.asked).toEqual(['bots/issue-7'])
    expect(github.deleted).toEqual(['bots/issue-7'])
  })

  it('deletes the branch of a closed (not merged) pull request, as it is', async () => {
    const github = fakeGitHub(HEAD, [pull({ merged: false })])
    expect((await deleteIssueBranch(github, 'bots/', 7)).deleted).toBe(true)
  })

  it.each([
    ['no branch', undefined, [], 'it does not exist'],
    ['no pull request', HEAD, [], 'no pull request took its commits'],
    [
      'an open pull request',
      HEAD,
      [pull({ state: 'open', merged: false })],
      'its pull request #40 is open'
    ],
    ['commits after the merge', LATER, [pull()], 'it has commits pushed after #40 was merged'],
    [
      'commits after the close',
      LATER,
      [pull({ merged: false })],
      'it has commits pushed after #40 was closed'
    ],
    [
      'a newer open pull request than the merged one',
      LATER,
      [pull({ number: 41, state: 'open', merged: false, headSha: LATER }), pull()],
      'its pull request #41 is open'
    ]
  ])('keeps it with %s', async (_what, head, pulls, reason) => {
    const github = fakeGitHub(head, pulls)
    expect(await deleteIssueBranch(github, 'bots/', 7)).toEqual({
      deleted: false,
      branch: 'bots/issue-7',
      reason
    })
    expect(github.deleted).toEqual([])
  })

  it('a branch someone deleted meanwhile is reported as gone', async () => {
    const github = fakeGitHub(HEAD, [pull()], false)
    expect(await deleteIssueBranch(github, 'bots/', 7)).toEqual({
      deleted: false,
      branch: 'bots/issue-7',
      reason: 'it was already gone'
    })
  })
})
