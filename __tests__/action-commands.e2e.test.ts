/**
 * The front door end to end (the bundled action, real opencode, the scripted model, loopback
 * stand-ins): comments the agent posts itself never start another turn, commands answered without
 * the model, and the budgets.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { cleanupJobs, type ActionEvent } from './support/action-runner.js'
import {
  createTestBed,
  issueCommentEvent,
  type KugetsuWorld,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import type { Issue } from './support/github-api.js'
import { bash, toolStepsScript, WORK, type ToolStep } from './support/tool-steps.js'

const REPO = 'octo-org/octo-repo'

const steps = new Map<string, ToolStep[]>()
let bed: TestBed
let world: KugetsuWorld

beforeAll(async () => {
  bed = await createTestBed({
    script: toolStepsScript(steps),
    repo: REPO,
    firstRunId: 9100,
    writers: ['alice']
  })
  world = bed.world
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
})

let nextIssue = 1
function newIssue(): Issue {
  const number = nextIssue++
  return world.github.state.addIssue(REPO, {
    number,
    title: `Issue ${number}`,
    body: 'Something is wrong.',
    user: 'alice'
  })
}

function commentOn(issue: Issue, body: string, user: string): ActionEvent {
  const comment = world.github.state.addComment(REPO, issue.number, { body, user })
  return issueCommentEvent(world.context, issue, comment)
}

const chats = (run: WorldRun) => run.model.filter((request) => request.kind === 'chat')
const errorsOf = (run: WorldRun) =>
  run.result.annotations.filter((a) => a.level === 'error').map((a) => a.message)

function expectSuccess(run: WorldRun): void {
  if (run.result.exitCode !== 0 || errorsOf(run).length > 0) {
    throw new Error(
      `the action failed (exit ${run.result.exitCode}): ${errorsOf(run).join('; ')}\n${run.result.stdout.slice(-3000)}`
    )
  }
}

describe('a comment the agent posts with the token', () => {
  test('does not start another turn, and its account may ask again once kugetsu replied', async () => {
    const issue = newIssue()
    // A personal token: its comments start workflows, so the agent's comment reaches kugetsu.
    const pat = world.github.addToken({ login: 'alice', kind: 'user' })
    const inputs = { 'github-token': pat, 'expose-github-token': 'true' }
    const post = (number: number) =>
      `curl -sf -X POST -H "Authorization: token $GH_TOKEN" -H 'Content-Type: application/json' ` +
      `-d '{"body":"/kugetsu ${WORK} loop"}' "$GITHUB_API_URL/repos/${REPO}/issues/${number}/comments" >/dev/null && echo posted`
    steps.set('loop', [bash(post(issue.number))])
    const first = await world.run({
      event: commentOn(issue, `/kugetsu ${WORK} loop`, 'alice'),
      inputs
    })
    expectSuccess(first)
    expect(first.outputs.response).toContain('done loop: posted')

    const posted = world.github.state
      .commentsOf(REPO, issue.number)
      .filter((comment) => comment.body === `/kugetsu ${WORK} loop` && comment.user === 'alice')
    expect(posted).toHaveLength(2)
    const agents = posted[1]
    const again = await world.run({
      event: issueCommentEvent(world.context, issue, agents),
      inputs
    })
    expectSuccess(again)
    expect(again.outputs.skipped).toBe('true')
    expect(again.outputs['skip-reason']).toMatch(
      /^the comment was posted by kugetsu's own account \(alice\) while its turn ran/
    )
    expect(again.model).toEqual([])
    expect(again.opencode).toEqual([])
    expect(again.comments).toEqual([])

    const later = await world.run({
      event: commentOn(issue, '/kugetsu and now?', 'alice'),
      inputs
    })
    expectSuccess(later)
    expect(later.outputs.mode).toBe('continue')
    expect(chats(later).length).toBeGreaterThan(0)
  }, 240_000)
})
