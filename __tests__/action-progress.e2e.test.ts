/**
 * Live progress, end to end: the bundled action with the real opencode and a scripted model that
 * runs a few tools. While the turn runs, the tracking comment is edited with the agent's steps
 * (through opencode serve's event stream and through `opencode run --format json`), shown as
 * plain text whatever they say; the last edit is the answer, and no progress edit comes after it.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { cleanupJobs } from './support/action-runner.js'
import {
  createTestBed,
  issueCommentEvent,
  type KugetsuWorld,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import type { Issue } from './support/github-api.js'
import { bash, read, toolStepsScript, write, type ToolStep } from './support/tool-steps.js'

const REPO = 'octo-org/octo-repo'
/** The cap of progress-pace.ts, plus the answer. */
const MAX_EDITS = 60 + 1
jest.setTimeout(240_000)
let bed: TestBed
let world: KugetsuWorld
const steps = new Map<string, ToolStep[]>()

const HOSTILE = 'echo "@everyone ](http://evil.example) <img src=x> `whoami`"'

beforeAll(async () => {
  bed = await createTestBed({
    script: toolStepsScript(steps),
    repo: REPO,
    firstRunId: 21000,
    writers: ['alice'],
    git: { files: { 'README.md': '# octo-repo\n', 'src/app.txt': 'app v1\n' } }
  })
  world = bed.world
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
})

async function ask(issue: Issue, body: string, inputs: Record<string, string> = {}) {
  const comment = world.github.state.addComment(REPO, issue.number, { user: 'alice', body })
  const run = await world.run({ event: issueCommentEvent(world.context, issue, comment), inputs })
  if (run.result.exitCode !== 0) {
    throw new Error(
      `run ${run.runId} failed (${run.result.exitCode}):\n${run.result.stderr}\n${run.result.stdout.slice(-3000)}`
    )
  }
  return run
}

/** The bodies of the run's edits of its tracking comment, in order. */
function trackingEdits(run: WorldRun): string[] {
  const tracking = run.comments.find((comment) => comment.user === 'github-actions[bot]')
  expect(tracking).toBeDefined()
  return run.github
    .filter(
      (request) =>
        request.method === 'PATCH' &&
        request.path === `/repos/${REPO}/issues/comments/${tracking?.id}`
    )
    .map((request) => String((request.json as { body?: unknown }).body))
}

/** The first step's line is in a progress edit: the first step is shown at once. */
function expectProgressThenAnswer(run: WorldRun, name: string, firstStep: RegExp): string[] {
  const edits = trackingEdits(run)
  expect(edits.length).toBeGreaterThanOrEqual(2)
  expect(edits.length).toBeLessThanOrEqual(MAX_EDITS)
  const progress = edits.slice(0, -1)
  for (const body of progress) expect(body).toContain('kugetsu is working on it')
  expect(progress.join('\n')).toMatch(firstStep)
  // the answer is the last edit, and it is what the comment says now
  const answer = edits.at(-1) ?? ''
  expect(answer).toContain(`done ${name}:`)
  expect(answer).not.toContain('working on it')
  const tracking = run.comments.find((comment) => comment.user === 'github-actions[bot]')
  expect(world.github.state.comments.get(tracking?.id ?? -1)?.body).toBe(answer)
  return progress
}

describe('the tracking comment shows the steps while the agent works', () => {
  let issue: Issue
  beforeAll(() => {
    issue = world.github.state.addIssue(REPO, { number: 3, title: 'Look around', user: 'alice' })
  })

  test('through opencode serve: progress edits with the steps, then the answer', async () => {
    steps.set('p1', [bash(HOSTILE), read('README.md'), write('notes.txt', 'hello\n')])
    const run = await ask(issue, '/kugetsu WORK p1 look around')
    const progress = expectProgressThenAnswer(
      run,
      'p1',
      /- \d+:\d\d bash `echo "@everyone \]\(http:\/\/evil\.example\) <img src=x> ˋwhoamiˋ"`/
    )
    // whatever the agent ran shows as code: no mention, link, image or HTML outside a code span
    for (const body of progress) {
      const outside = body.replace(/`[^`\n]*`/g, '').replace(/<!-- kugetsu:[^>]*-->/, '')
      expect(outside).not.toContain('@everyone')
      expect(outside).not.toContain('evil.example')
      expect(outside).not.toContain('<img')
    }
  })

  test('through `opencode run --format json`: the same', async () => {
    steps.set('p2', [read('README.md'), bash('ls src'), read('src/app.txt')])
    const run = await ask(issue, '/kugetsu WORK p2 again', { 'opencode-serve': 'false' })
    expectProgressThenAnswer(run, 'p2', /- \d+:\d\d read `README\.md`/)
  })

  test('with progress: false the comment goes from "working on it" to the answer', async () => {
    steps.set('p3', [read('README.md'), bash('ls')])
    const run = await ask(issue, '/kugetsu WORK p3 quietly', { progress: 'false' })
    const edits = trackingEdits(run)
    expect(edits).toHaveLength(1)
    expect(edits[0]).toContain('done p3:')
  })
})
