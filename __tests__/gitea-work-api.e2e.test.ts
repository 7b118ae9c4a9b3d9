/**
 * kugetsu's pull request and branch calls (github.ts with forge gitea/forgejo, gitea-work.ts)
 * against the Gitea stand-in with its git remote: Gitea's shapes, not GitHub's (no `head=`
 * filter, WIP titles for drafts, `/branches/*`), and a fork's branch of the same name is not ours.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createGitHub, type GitHub } from '../src/action/github/github.js'
import { startGiteaApi, type GiteaApi } from './support/gitea-api.js'

const REPO = 'acme/widgets'
const BRANCH = 'kugetsu/issue-7'

let gitea: GiteaApi
let github: GitHub

beforeAll(async () => {
  gitea = await startGiteaApi({ forge: 'forgejo', repos: [REPO] })
  await gitea.git.seed(REPO, { 'README.md': 'widgets\n' })
  github = createGitHub({
    token: gitea.token,
    apiUrl: gitea.apiUrl,
    repo: { owner: 'acme', repo: 'widgets' },
    forge: 'forgejo'
  })
})
afterAll(() => gitea?.close())

describe("kugetsu's work calls on Forgejo", () => {
  it('a fork\u2019s pull request from a branch of the same name is not the issue\u2019s (attack)', async () => {
    const fork = await gitea.openForkPullRequest(REPO, {
      headRepo: 'mallory/widgets',
      headBranch: BRANCH,
      title: 'Looks like kugetsu\u2019s',
      files: { 'evil.txt': 'x\n' }
    })
    expect(fork.headRepo).toBe('mallory/widgets')
    expect(await github.pullRequestsFrom(BRANCH, 'all')).toEqual([])
    // read as the single pull request, it names the fork, so target.ts keeps it read-only
    expect((await github.pullRequest(fork.number)).headRepo).toBe('mallory/widgets')
  }, 60_000)

  it('opens a draft as a WIP title, finds it by its branch, reads the branch head', async () => {
    const sha = await gitea.git.commit(REPO, BRANCH, { 'notes.txt': 'one\n' })
    expect(await github.branchHead(BRANCH)).toBe(sha)
    expect(await github.branchHead('kugetsu/issue-404')).toBeUndefined()
    const created = await github.createPullRequest({
      title: 'Add notes',
      head: BRANCH,
      base: 'main',
      body: 'Closes #7',
      draft: true
    })
    expect(created).toMatchObject({
      title: 'WIP: Add notes',
      draft: true,
      headRef: BRANCH,
      headSha: sha,
      headRepo: REPO,
      state: 'open',
      merged: false
    })
    expect(created.htmlUrl).toBe(`${'https://gitea.example.test'}/${REPO}/pulls/${created.number}`)
    const create = gitea.requests.find((r) => r.method === 'POST' && r.path.endsWith('/pulls'))
    expect(create?.json).toEqual({
      head: BRANCH,
      base: 'main',
      title: 'WIP: Add notes',
      body: 'Closes #7'
    })
    const [open] = await github.pullRequestsFrom(BRANCH, 'open')
    expect(open).toMatchObject({ number: created.number, draft: true })
    // a second create for the same branch is Gitea's 409, not a second pull request
    await expect(
      github.createPullRequest({ title: 'x', head: BRANCH, base: 'main', body: '', draft: false })
    ).rejects.toMatchObject({ status: 409 })
  }, 60_000)

  it('a ready pull request keeps its title; pages of pull requests are followed', async () => {
    await gitea.git.commit(REPO, 'first', { 'first.txt': '1\n' })
    await gitea.openPullRequest(REPO, { headBranch: 'first' })
    await gitea.git.commit(REPO, 'feature', { 'feature.txt': 'f\n' })
    for (let n = 0; n < 50; n++) {
      const pull = await gitea.openPullRequest(REPO, { headBranch: 'feature' })
      gitea.closeIssue(REPO, pull.number, 'acme')
    }
    await gitea.git.commit(REPO, 'kugetsu/issue-8', { 'eight.txt': '8\n' })
    const ready = await github.createPullRequest({
      title: 'Eight',
      head: 'kugetsu/issue-8',
      base: 'main',
      body: '',
      draft: false
    })
    expect(ready).toMatchObject({ title: 'Eight', draft: false })
    // the first pull request of the repository is on the second page of 50
    expect(await github.pullRequestsFrom('first', 'all')).toHaveLength(1)
    expect(
      gitea.requests.filter((r) => r.path === `/api/v1/repos/${REPO}/pulls` && r.query.page === '2')
    ).not.toHaveLength(0)
  }, 60_000)

  it('after a merge, the list keeps the head as merged even when the branch moves on', async () => {
    const [pull] = await github.pullRequestsFrom(BRANCH, 'open')
    await gitea.mergePullRequest(REPO, pull.number)
    const [merged] = await github.pullRequestsFrom(BRANCH, 'all')
    expect(merged).toMatchObject({ number: pull.number, merged: true, state: 'closed' })
    expect(merged.headSha).toBe(await github.branchHead(BRANCH))
    const later = await gitea.git.commit(REPO, BRANCH, { 'notes.txt': 'two\n' })
    const [after] = await github.pullRequestsFrom(BRANCH, 'all')
    expect(after.headSha).toBe(merged.headSha)
    expect(after.headSha).not.toBe(later)
    expect(await github.pullRequestsFrom(BRANCH, 'open')).toEqual([])
  }, 60_000)

  it('deletes a branch through /branches/*, and says false for one already gone', async () => {
    expect(await github.deleteBranch(BRANCH)).toBe(true)
    expect(await gitea.git.head(REPO, BRANCH)).toBeUndefined()
    expect(await github.deleteBranch(BRANCH)).toBe(false)
    const deletes = gitea.requests.filter((r) => r.method === 'DELETE')
    expect(deletes.map((r) => r.path)).toEqual([
      `/api/v1/repos/${REPO}/branches/${BRANCH}`,
      `/api/v1/repos/${REPO}/branches/${BRANCH}`
    ])
  }, 60_000)
})
