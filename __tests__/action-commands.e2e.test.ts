/**
 * The front door end to end (the bundled action, real opencode, the scripted model, loopback
 * stand-ins): comments the agent posts itself never start another turn, commands answered without
 * the model, and the budgets.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { cleanupJobs } from './support/action-runner.js'
import {
  createTestBed,
  errorsOf,
  expectSuccess,
  issueCommentEvent,
  issueMaker,
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

const { newIssue, commentOn } = issueMaker(() => world, REPO, 1)

const chats = (run: WorldRun) => run.model.filter((request) => request.kind === 'chat')
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

    // GitHub's times are whole seconds: a comment in the second of the reply's last edit counts
    // as made during the turn. A person's next comment comes later than that.
    const next = world.github.state.addComment(REPO, issue.number, {
      body: '/kugetsu and now?',
      user: 'alice',
      createdAt: new Date(Date.now() + 1500)
    })
    const later = await world.run({
      event: issueCommentEvent(world.context, issue, next),
      inputs
    })
    expectSuccess(later)
    expect(later.outputs.mode).toBe('continue')
    expect(chats(later).length).toBeGreaterThan(0)
  }, 240_000)
})

describe('commands', () => {
  let issue: Issue
  let first: WorldRun

  beforeAll(async () => {
    issue = newIssue()
  })

  test('status before any turn: no session yet, and the first turn after it starts plainly', async () => {
    const status = await world.run({ event: commentOn(issue, '/kugetsu Status', 'alice') })
    expectSuccess(status)
    expect(status.model).toEqual([])
    expect(status.opencode).toEqual([])
    expect(status.comments).toHaveLength(1)
    expect(status.comments[0].body).toContain('No session yet')

    first = await world.run({ event: commentOn(issue, '/kugetsu hello there', 'alice') })
    expectSuccess(first)
    expect(first.outputs.mode).toBe('start')
    // The status reply is no earlier turn: the memory is not "rebuilt" from the thread.
    expect(first.comments.at(-1)?.body).not.toContain('rebuilt its memory')
  }, 240_000)

  test('status: no model, no opencode, and the reply holds the facts', async () => {
    const run = await world.run({
      event: commentOn(issue, '/kugetsu status', 'alice'),
      inputs: { 'max-turns-per-issue': '7', 'max-cost-per-issue': '3' }
    })
    expectSuccess(run)
    expect(run.model).toEqual([])
    expect(run.opencode).toEqual([])
    expect(run.saved).toEqual([])
    expect(run.comments).toHaveLength(1)
    const body = run.comments[0].body
    expect(body).toContain(`\`${first.outputs['session-id']}\``)
    expect(body).toMatch(/\| Turns \| 1 of 7 \(`max-turns-per-issue`\) \|/)
    expect(body).toMatch(/\| Cost \| \$[\d.]+ of \$3\.00 \(`max-cost-per-issue`\) \|/)
    const count = (output: string) => Number(first.outputs[output]).toLocaleString('en-US')
    expect(body).toContain(`${count('tokens-input')} in / ${count('tokens-output')} out`)
    expect(body).toMatch(/\| Started \| \d{4}-\d\d-\d\d \d\d:\d\d UTC \|/)
    expect(body).toMatch(
      /\| Cache entry \| `kugetsu-v1-issue-\d+-[^`]+`: last used .* before this status; GitHub may evict it once unused for 7 days, so not before \d{4}-/
    )
    expect(body).toContain(first.outputs['base-session-id'])
    expect(body).toContain('| Branch | none yet |')
    expect(run.outputs.response).toContain('kugetsu status')
    expect(run.outputs['comment-id']).toBe(String(run.comments[0].id))
  }, 120_000)

  test('help: the commands, the trigger and the budgets, without the model', async () => {
    const run = await world.run({
      event: commentOn(issue, '@helper HELP', 'alice'),
      inputs: { trigger: '@helper', 'max-cost-per-issue': '2.5' }
    })
    expectSuccess(run)
    expect(run.model).toEqual([])
    expect(run.opencode).toEqual([])
    const body = run.comments[0].body
    expect(body).toContain('`@helper status`')
    expect(body).toContain('`@helper help`')
    expect(body).toContain(
      'cost $2.50 per issue (`max-cost-per-issue`), turns no ceiling (`max-turns-per-issue`)'
    )
  }, 120_000)

  test('a command goes through the same gate: a reader gets nothing', async () => {
    world.github.state.addUser('rita')
    const run = await world.run({ event: commentOn(issue, '/kugetsu status', 'rita') })
    expectSuccess(run)
    expect(run.outputs.skipped).toBe('true')
    expect(run.comments).toEqual([])
    expect(run.cache).toEqual([])
  }, 120_000)

  test('"status" followed by more words is a request for the agent', async () => {
    const run = await world.run({ event: commentOn(issue, '/kugetsu status please fix', 'alice') })
    expectSuccess(run)
    expect(run.outputs.mode).toBe('continue')
    expect(chats(run).length).toBeGreaterThan(0)
  }, 240_000)

  test('reset: no model; the next request has a new session that saw nothing before the reset', async () => {
    const reset = await world.run({ event: commentOn(issue, '/kugetsu reset', 'alice') })
    expectSuccess(reset)
    expect(reset.model).toEqual([])
    expect(reset.opencode).toEqual([])
    expect(reset.comments).toHaveLength(1)
    expect(reset.comments[0].body).toContain('kugetsu reset')
    expect(reset.saved.map((entry) => entry.key)).toEqual([expect.stringMatching(/-forgotten$/)])

    const status = await world.run({ event: commentOn(issue, '/kugetsu status', 'alice') })
    expectSuccess(status)
    expect(status.comments[0].body).toContain('The session was forgotten (reset by alice')

    const next = await world.run({
      event: commentOn(issue, '/kugetsu what did we talk about?', 'alice')
    })
    expectSuccess(next)
    expect(next.outputs.mode).toBe('start')
    expect(next.outputs['session-id']).not.toBe(first.outputs['session-id'])
    expect(next.comments.at(-1)?.body).not.toContain('rebuilt its memory')
    const received = chats(next)
      .flatMap((request) => request.userTexts)
      .join('\n')
    expect(received).toContain('what did we talk about?')
    expect(received).not.toContain('hello there')
    expect(received).not.toContain('status please fix')
  }, 300_000)
})

describe('budgets', () => {
  let issue: Issue
  let first: WorldRun

  beforeAll(async () => {
    issue = newIssue()
  })

  test('a request once max-turns-per-issue is reached is refused before any model request', async () => {
    first = await world.run({ event: commentOn(issue, '/kugetsu hello', 'alice') })
    expectSuccess(first)
    const run = await world.run({
      event: commentOn(issue, '/kugetsu once more', 'alice'),
      inputs: { 'max-turns-per-issue': '1' }
    })
    expectSuccess(run)
    expect(run.model).toEqual([])
    expect(run.opencode).toEqual([])
    expect(run.saved).toEqual([])
    expect(run.outputs.skipped).toBe('true')
    expect(run.comments).toHaveLength(1)
    const body = run.comments[0].body
    expect(body).toContain(
      'has reached its budget: 1 turn of the 1 allowed (`max-turns-per-issue`)'
    )
    expect(body).toMatch(/Spent so far: \$[\d.]+ over 1 turn/)
    expect(body).toContain('raise `max-turns-per-issue` in the workflow')
  }, 240_000)

  test('a turn that reaches max-cost-per-issue while running is stopped; the session stays as before', async () => {
    steps.set('costly', [bash('echo one'), bash('echo two'), bash('echo three')])
    const ceiling = (Number(first.outputs.cost) + 0.0001).toFixed(6)
    const run = await world.run({
      event: commentOn(issue, `/kugetsu ${WORK} costly`, 'alice'),
      inputs: { 'max-cost-per-issue': ceiling }
    })
    expect(run.result.exitCode).toBe(1)
    expect(errorsOf(run)).toEqual([
      expect.stringMatching(
        /^the turn reached max-cost-per-issue \(\$[\d.]+\) and was stopped after spending \$[\d.]+; .*#\d+ keeps the session it had before this turn\. Spent so far: .*raise max-cost-per-issue in the workflow$/
      )
    ])
    // Stopped once the first model call's cost arrived on the event stream (the next call may have
    // begun by then): the turn never got to its last tools or its answer.
    expect(chats(run).length).toBeLessThan(3)
    expect(run.comments.at(-1)?.body).toContain('reached max-cost-per-issue')

    const status = await world.run({ event: commentOn(issue, '/kugetsu status', 'alice') })
    expectSuccess(status)
    const body = status.comments[0].body
    expect(body).toContain(`\`${first.outputs['session-id']}\``)
    expect(body).toMatch(/\| Turns \| 1 \(no ceiling\) \|/)
    // What the stopped turn spent counts: the next request is refused by the cost ceiling.
    const next = await world.run({
      event: commentOn(issue, '/kugetsu and now?', 'alice'),
      inputs: { 'max-cost-per-issue': ceiling }
    })
    expectSuccess(next)
    expect(next.model).toEqual([])
    expect(next.comments[0].body).toContain('(`max-cost-per-issue`)')
    expect(next.comments[0].body).toContain('raise `max-cost-per-issue` in the workflow')

    // Without the ceiling, the session goes on from the turn before the stopped one.
    const later = await world.run({
      event: commentOn(issue, '/kugetsu what did I say first?', 'alice')
    })
    expectSuccess(later)
    expect(later.outputs['session-id']).toBe(first.outputs['session-id'])
    const texts = chats(later).at(-1)?.userTexts ?? []
    // the session's history holds nothing of the stopped turn; the new prompt tells its request
    // as a comment made since the last turn
    const history = texts.slice(0, -1).join('\n')
    expect(history).toContain('hello')
    expect(history).not.toContain('costly')
  }, 300_000)
})
