import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { runPost } from '../src/post.js'
import { TRACKING_STATE, runUrlFromEnv, workingBody } from '../src/action/github/tracking.js'
import { cleanupJobs, runAction } from './support/action-runner.js'
import { startGitHubApi, type GitHubApi } from './support/github-api.js'

const REPO = 'octo-org/octo-repo'
const REF = 'github.com/octo-org/octo-repo#7'
let api: GitHubApi
let written: string[] = []

beforeAll(async () => {
  api = await startGitHubApi({ repos: [REPO] })
  api.state.addIssue(REPO, { number: 7, user: 'alice' })
})

afterAll(async () => {
  await api?.close()
})

// @actions/core writes warnings and masks as workflow commands on stdout.
const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
  written.push(String(chunk))
  return true
})

afterEach(() => {
  written = []
  api.clearFaults()
  api.requests.length = 0
})

afterAll(() => stdout.mockRestore())

function postEnv(commentId: number | string, state: Record<string, string> = {}) {
  return {
    'INPUT_GITHUB-TOKEN': api.token,
    GITHUB_API_URL: api.url,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: REPO,
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    [`STATE_${TRACKING_STATE.commentId}`]: String(commentId),
    [`STATE_${TRACKING_STATE.ref}`]: REF,
    ...Object.fromEntries(Object.entries(state).map(([name, value]) => [`STATE_${name}`, value]))
  }
}

const trackingComment = () =>
  api.state.addComment(REPO, 7, { body: workingBody('https://github.com/o/r/actions/runs/1', REF) })

const immediately = { retry: { sleep: async () => undefined } }

describe('runPost', () => {
  it('rewrites a tracking comment the main step left unfinished', async () => {
    const comment = trackingComment()
    await expect(runPost(postEnv(comment.id), immediately)).resolves.toBe('marked-interrupted')
    expect(comment.body).toContain('**kugetsu stopped without replying:**')
    expect(comment.body).toContain('[run](https://github.com/octo-org/octo-repo/actions/runs/4242)')
    expect(comment.body).toMatch(/ref=github.com\/octo-org\/octo-repo#7 tracking=interrupted -->$/)
    const patch = api.requests.find((r) => r.method === 'PATCH')
    expect(patch?.path).toBe(`/repos/${REPO}/issues/comments/${comment.id}`)
    expect(patch?.authorization).toBe(`token ${api.token}`)
    expect(written.join('')).toContain(`::add-mask::${api.token}`)
  })

  it('leaves a comment the main step marked done', async () => {
    const comment = trackingComment()
    const body = comment.body
    const outcome = await runPost(postEnv(comment.id, { [TRACKING_STATE.done]: 'true' }))
    expect(outcome).toBe('already-done')
    expect(comment.body).toBe(body)
    expect(api.requests).toHaveLength(0)
  })

  it('does nothing when no tracking comment was saved (skipped runs, list, init)', async () => {
    const env = postEnv('')
    await expect(runPost(env)).resolves.toBe('no-tracking-comment')
    expect(api.requests).toHaveLength(0)
  })

  it('retries a passing server error', async () => {
    const comment = trackingComment()
    api.failNext(`PATCH /repos/${REPO}/issues/comments/${comment.id}`, { status: 502 })
    await expect(runPost(postEnv(comment.id), immediately)).resolves.toBe('marked-interrupted')
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2)
    expect(comment.body).toContain('stopped without replying')
  })

  it('only warns when the comment is gone', async () => {
    await expect(runPost(postEnv(999_999), immediately)).resolves.toBe('failed')
    expect(written.join('')).toMatch(
      /::warning::could not mark the tracking comment 999999 as interrupted: Not Found/
    )
  })

  it('only warns without a token or with a bad saved id', async () => {
    const comment = trackingComment()
    await expect(runPost({ ...postEnv(comment.id), 'INPUT_GITHUB-TOKEN': '' })).resolves.toBe(
      'failed'
    )
    await expect(runPost(postEnv('12; rm -rf'))).resolves.toBe('failed')
    expect(written.join('')).toContain('github-token is empty')
    expect(written.join('')).toContain('is not a number')
    expect(api.requests).toHaveLength(0)
  })
})

describe('runUrlFromEnv', () => {
  it('links the attempt of a re-run', () => {
    expect(
      runUrlFromEnv({
        GITHUB_SERVER_URL: 'https://ghe.example/',
        GITHUB_REPOSITORY: 'o/r',
        GITHUB_RUN_ID: '9',
        GITHUB_RUN_ATTEMPT: '2'
      })
    ).toBe('https://ghe.example/o/r/actions/runs/9/attempts/2')
    expect(runUrlFromEnv({})).toBe('')
  })
})

describe('the bundled post step (dist/post/index.js)', () => {
  afterAll(() => cleanupJobs())

  it('runs as the runner runs it, with saved state as STATE_*, and rewrites the comment', async () => {
    const comment = trackingComment()
    const result = await runAction({
      entry: 'dist/post/index.js',
      repo: REPO,
      apiUrl: api.url,
      runId: 4243,
      inputs: { 'github-token': api.token },
      state: { [TRACKING_STATE.commentId]: String(comment.id), [TRACKING_STATE.ref]: REF }
    })
    expect(result.exitCode).toBe(0)
    expect(result.annotations).toEqual([])
    expect(comment.body).toContain('stopped without replying')
    expect(comment.body).toContain('/actions/runs/4243')
  }, 60_000)

  it('exits 0 with a warning when the API refuses', async () => {
    const comment = trackingComment()
    const result = await runAction({
      entry: 'dist/post/index.js',
      repo: REPO,
      apiUrl: api.url,
      inputs: { 'github-token': '' },
      state: { [TRACKING_STATE.commentId]: String(comment.id) }
    })
    expect(result.exitCode).toBe(0)
    expect(result.annotations).toEqual([
      expect.objectContaining({
        level: 'warning',
        message: expect.stringContaining('github-token is empty')
      })
    ])
  }, 60_000)
})
