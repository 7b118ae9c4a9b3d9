/**
 * Forgetting a session, end to end with the bundled action and real opencode, on a cache that
 * lowercases keys over protocol v1 (as Gitea's and Forgejo's do): after `destroy`, the next
 * request starts a fresh fork from the base and the model is given nothing of the thread before.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { cleanupJobs } from './support/action-runner.js'
import {
  createTestBed,
  dispatchEvent,
  issueCommentEvent,
  issuePayload,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import type { Issue } from './support/github-api.js'

const REPO = 'octo-org/octo-repo'
const PREFIX = 'kugetsu-v1'
let bed: TestBed

beforeAll(async () => {
  bed = await createTestBed({
    script: () => undefined,
    protocol: 'v1',
    lowercaseKeys: true,
    repo: REPO,
    firstRunId: 8000,
    writers: ['alice']
  })
  bed.world.github.state.setPermission(REPO, 'rita', 'read')
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
})

const comment = (issue: Issue, body: string, user = 'alice') =>
  issueCommentEvent(
    bed.world.context,
    issue,
    bed.world.github.state.addComment(REPO, issue.number, { body, user })
  )
const chatTexts = (run: WorldRun) =>
  run.model
    .filter((request) => request.kind === 'chat')
    .flatMap((request) => request.userTexts)
    .join('\n')
const issueKeys = (number: number) =>
  bed.world.cache.store.committed
    .map((entry) => entry.key)
    .filter((key) => key.startsWith(`${PREFIX}-issue-${number}-`))

describe('destroy, then a new request', () => {
  test('starts a fresh session that holds none of the earlier thread', async () => {
    const issue = bed.world.github.state.addIssue(REPO, {
      number: 5,
      title: 'Forget me',
      body: 'An issue.',
      user: 'alice'
    })
    const first = await bed.world.run({ event: comment(issue, '/kugetsu remember PAPAYA') })
    expect(first.result.exitCode).toBe(0)
    expect(first.outputs.mode).toBe('start')
    expect(chatTexts(first)).toContain('PAPAYA')
    // Everything saved is lowercase, as the server keeps it.
    for (const entry of first.saved) expect(entry.key).toBe(entry.key.toLowerCase())
    // Someone (not kugetsu's trigger) talks on the issue before it is destroyed.
    bed.world.github.state.addComment(REPO, 5, { body: 'also GUAVA, noted', user: 'bob' })

    const destroy = await bed.world.run({
      event: dispatchEvent(bed.world.context, 'alice'),
      inputs: { command: 'destroy', 'issue-ref': '5' }
    })
    expect(destroy.result.exitCode).toBe(0)
    expect(destroy.outputs['deleted-entries']).toBe('1')
    expect(issueKeys(5)).toEqual([`${PREFIX}-issue-5-${destroy.runId}-1-forgotten`])

    const next = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
    expect(next.result.exitCode).toBe(0)
    expect(next.outputs).toMatchObject({ mode: 'start', 'state-restored': 'false' })
    expect(next.outputs['session-id']).not.toBe(first.outputs['session-id'])
    // Forked from the base; the model was given none of the thread before the destroy.
    const texts = chatTexts(next)
    expect(texts).toContain('what was the word?')
    expect(texts).not.toMatch(/PAPAYA|GUAVA/)
    expect(next.comments.map((c) => c.body).join('\n')).not.toContain('rebuilt its memory')
    // The fresh session is now the newest entry: the one after it continues it.
    const after = await bed.world.run({ event: comment(issue, '/kugetsu and now?') })
    expect(after.result.exitCode).toBe(0)
    expect(after.outputs).toMatchObject({
      mode: 'continue',
      'session-id': next.outputs['session-id']
    })
    expect(chatTexts(after)).not.toMatch(/PAPAYA|GUAVA/)
  }, 400_000)
})

describe('closing an issue', () => {
  const close = (issue: Issue, sender: string) => {
    issue.state = 'closed'
    return {
      name: 'issues',
      payload: {
        action: 'closed',
        issue: issuePayload(bed.world.context, issue),
        repository: { full_name: REPO, private: false, default_branch: 'main' },
        sender: { login: sender, type: 'User' }
      }
    }
  }

  test('by a reader changes nothing: reopened, it continues; by a writer: the next request starts afresh', async () => {
    const issue = bed.world.github.state.addIssue(REPO, {
      number: 6,
      title: 'Close me',
      body: 'An issue.',
      user: 'rita'
    })
    const first = await bed.world.run({ event: comment(issue, '/kugetsu remember FIG') })
    expect(first.result.exitCode).toBe(0)
    const before = issueKeys(6)

    // Its author, a reader, closes it: no tombstone, nothing deleted.
    const byReader = await bed.world.run({ event: close(issue, 'rita') })
    expect(byReader.result.exitCode).toBe(0)
    expect(byReader.outputs.skipped).toBe('true')
    expect(byReader.outputs['skip-reason']).toContain('closed by "rita", who may not use kugetsu')
    expect(byReader.saved).toEqual([])
    expect(issueKeys(6)).toEqual(before)
    issue.state = 'open'
    const reopened = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
    expect(reopened.result.exitCode).toBe(0)
    expect(reopened.outputs).toMatchObject({
      mode: 'continue',
      'session-id': first.outputs['session-id']
    })
    expect(chatTexts(reopened)).toContain('FIG')

    const byWriter = await bed.world.run({ event: close(issue, 'alice') })
    expect(byWriter.result.exitCode).toBe(0)
    expect(byWriter.outputs).toMatchObject({ mode: 'destroy', 'deleted-entries': '2' })
    expect(issueKeys(6)).toEqual([`${PREFIX}-issue-6-${byWriter.runId}-1-forgotten`])
    issue.state = 'open'
    const fresh = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
    expect(fresh.result.exitCode).toBe(0)
    expect(fresh.outputs.mode).toBe('start')
    expect(fresh.outputs['session-id']).not.toBe(first.outputs['session-id'])
    expect(chatTexts(fresh)).not.toContain('FIG')
  }, 400_000)
})
