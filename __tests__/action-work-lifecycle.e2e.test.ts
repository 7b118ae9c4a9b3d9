/**
 * The life of an issue's branch and pull request, end to end (the bundled action, the real
 * opencode, a real git remote): after kugetsu's pull request is merged or closed, on its closed
 * pull request, through `destroy` with `delete-branch`, in manual runs, and with the inputs that
 * shape the pull request and the branch's name.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { cleanupJobs } from './support/action-runner.js'
import {
  createTestBed,
  dispatchEvent,
  issueCommentEvent,
  type KugetsuWorld,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import { requestText } from './support/frame-parser.js'
import type { Issue } from './support/github-api.js'
import type { Reply, ScriptContext } from './support/model-server.js'

const REPO = 'octo-org/octo-repo'
// every test runs the bundled action with the real opencode, most of them two or three times
jest.setTimeout(300_000)
const WORK = 'WORK'
const DOOMED = 'DOOMED'

let bed: TestBed
let world: KugetsuWorld
/** The files a turn writes, named by `WORK <name>` in its message. */
const writes = new Map<string, Record<string, string>>()

/**
 * `WORK <name>` makes the agent write that name's files, one tool call each, then answer;
 * `DOOMED` makes the model fail at once.
 */
function scriptedModel({ request }: ScriptContext): Reply | undefined {
  const last = requestText(request.userTexts.at(-1) ?? '')
  if (last.includes(DOOMED)) {
    return {
      type: 'error',
      status: 500,
      message: 'the model is on fire',
      headers: { 'retry-after-ms': '0' }
    }
  }
  const name = [...last.matchAll(new RegExp(`${WORK} (\\S+)`, 'g'))].at(-1)?.[1]
  if (!name) return undefined
  const todo = Object.entries(writes.get(name) ?? {})
  const messages = request.body.messages ?? []
  const lastUser = messages.map((message) => message.role).lastIndexOf('user')
  const done = messages.slice(lastUser + 1).filter((message) => message.role === 'tool').length
  if (done < todo.length) {
    const [filePath, content] = todo[done]
    return { type: 'tool', tool: 'write', input: { filePath, content } }
  }
  return { type: 'text', text: `done ${name}` }
}

function newIssue(number: number, title = `Issue ${number}`): Issue {
  return world.github.state.addIssue(REPO, { number, title, user: 'alice' })
}

/** A comment on `issue` and the run it triggers, which must succeed. */
async function ask(issue: Issue, body: string, inputs?: Record<string, string>): Promise<WorldRun> {
  const comment = world.github.state.addComment(REPO, issue.number, { user: 'alice', body })
  const run = await world.run({ event: issueCommentEvent(world.context, issue, comment), inputs })
  expectSuccess(run)
  return run
}

/** A turn of `WORK <name>` that writes `files`. */
function work(
  issue: Issue,
  name: string,
  files: Record<string, string>,
  inputs?: Record<string, string>
) {
  writes.set(name, files)
  return ask(issue, `/kugetsu ${WORK} ${name} please`, inputs)
}

function expectSuccess(run: WorldRun): void {
  if (run.result.exitCode !== 0) {
    throw new Error(
      `run ${run.runId} failed (${run.result.exitCode}):\n${run.result.stderr}\n${run.result.stdout.slice(-3000)}`
    )
  }
}

/** The reply kugetsu left in this run. */
function replyOf(run: WorldRun): string {
  const comments = run.comments.filter((comment) => comment.user === 'github-actions[bot]')
  return world.github.state.comments.get(comments.at(-1)?.id ?? -1)?.body ?? ''
}

const pullsFrom = (branch: string) =>
  world.github.state.pullRequests(REPO).filter((pull) => pull.headRef === branch)

const pullIssue = (number: number) => world.github.state.issue(REPO, number) as Issue

const head = (branch: string) => world.github.git.head(REPO, branch)

beforeAll(async () => {
  bed = await createTestBed({
    script: scriptedModel,
    repo: REPO,
    firstRunId: 15000,
    writers: ['alice'],
    git: { files: { 'README.md': '# octo-repo\n' } }
  })
  world = bed.world
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
})

describe.each<['merge' | 'squash', number]>([
  ['merge', 41],
  ['squash', 42]
])("after kugetsu's pull request is merged (%s)", (method, number) => {
  const branch = `kugetsu/issue-${number}`
  let issue: Issue
  let merged: number
  let mainHead: string

  beforeAll(() => {
    issue = newIssue(number)
  })

  test('turn 1 opens the pull request, which is then merged', async () => {
    const run = await work(issue, `${method}1`, { [`${method}-1.txt`]: 'one\n' })
    merged = Number(run.outputs['pull-request-number'])
    expect(pullsFrom(branch).map((pull) => pull.number)).toEqual([merged])
    mainHead = await world.github.mergePullRequest(REPO, merged, { method })
    expect(await world.github.git.show(REPO, 'main', `${method}-1.txt`)).toBe('one\n')
  })

  test("the next change starts the branch anew from main's head and opens a new pull request", async () => {
    const run = await work(issue, `${method}2`, { [`${method}-2.txt`]: 'two\n' })

    expect(run.outputs.branch).toBe(branch)
    const log = await world.github.git.log(REPO, branch)
    expect(log[0].sha).toBe(run.outputs.commit)
    expect(log[0].parents).toEqual([mainHead])
    expect(await world.github.git.show(REPO, branch, `${method}-1.txt`)).toBe('one\n')
    expect(await world.github.git.show(REPO, branch, `${method}-2.txt`)).toBe('two\n')

    const pulls = pullsFrom(branch)
    expect(pulls).toHaveLength(2)
    expect(pulls[0]).toMatchObject({ number: merged, merged: true })
    expect(world.github.state.issue(REPO, merged)?.state).toBe('closed')
    const fresh = pulls[1]
    expect(fresh.merged).toBe(false)
    expect(world.github.state.issue(REPO, fresh.number)?.state).toBe('open')
    expect(run.outputs['pull-request-number']).toBe(String(fresh.number))

    const reply = replyOf(run)
    expect(reply).toContain(`#${merged} was merged, so \`${branch}\` started anew from \`main\``)
    expect(reply).toContain(`pull request [#${fresh.number}]`)
    // a new branch: the link is to the commit, not a comparison with the merged head
    expect(reply).toContain(`/commit/${run.outputs.commit}`)
  })

  test('once that one is merged too, a turn that changes nothing opens no pull request of what was merged', async () => {
    const [, second] = pullsFrom(branch)
    await world.github.mergePullRequest(REPO, second.number, { method })
    const before = await head(branch)
    const run = await ask(issue, `/kugetsu ${WORK} ${method}-idle just answer`)
    expect(run.outputs.commit).toBe('')
    expect(await head(branch)).toBe(before)
    expect(pullsFrom(branch).map((pull) => [pull.number, pull.merged])).toEqual([
      [merged, true],
      [second.number, true]
    ])
    expect(run.outputs['pull-request-number']).toBe('')
  })
})

describe('a push to the branch after its pull request was merged', () => {
  test('the branch is continued, not replaced: the pushed commit stays', async () => {
    const issue = newIssue(43)
    const branch = 'kugetsu/issue-43'
    const first = await work(issue, 'late1', { 'late-1.txt': 'one\n' })
    const merged = Number(first.outputs['pull-request-number'])
    await world.github.mergePullRequest(REPO, merged)
    const pushed = await world.github.git.commit(
      REPO,
      branch,
      { 'late-person.txt': 'pushed after the merge\n' },
      { message: 'Pat follows up' }
    )

    const run = await work(issue, 'late2', { 'late-2.txt': 'two\n' })
    const log = await world.github.git.log(REPO, branch)
    expect(log[0].sha).toBe(run.outputs.commit)
    expect(log[0].parents).toEqual([pushed])
    expect(await world.github.git.show(REPO, branch, 'late-person.txt')).toBe(
      'pushed after the merge\n'
    )
    expect(replyOf(run)).not.toContain('started anew')
    const pulls = pullsFrom(branch)
    expect(pulls.map((pull) => [pull.number === merged, pull.merged])).toEqual([
      [true, true],
      [false, false]
    ])
    expect(run.outputs['pull-request-number']).toBe(String(pulls[1].number))
  })
})

describe("kugetsu's pull request closed without merging", () => {
  const branch = 'kugetsu/issue-44'
  let issue: Issue
  let closed: number
  let firstCommit: string

  beforeAll(() => {
    issue = newIssue(44)
  })

  test('a comment on the issue continues the branch and opens a new pull request', async () => {
    const first = await work(issue, 'closed1', { 'closed-1.txt': 'one\n' })
    firstCommit = first.outputs.commit
    closed = Number(first.outputs['pull-request-number'])
    world.github.closePullRequest(REPO, closed)

    const run = await work(issue, 'closed2', { 'closed-2.txt': 'two\n' })
    const log = await world.github.git.log(REPO, branch)
    expect(log[0].parents).toEqual([firstCommit])
    const pulls = pullsFrom(branch)
    expect(pulls).toHaveLength(2)
    expect(pulls[0].number).toBe(closed)
    expect(world.github.state.issue(REPO, closed)?.state).toBe('closed')
    expect(run.outputs['pull-request-number']).toBe(String(pulls[1].number))
    expect(world.github.state.issue(REPO, pulls[1].number)?.state).toBe('open')
  })

  test('a comment on the closed pull request is read-only: the reply says so, nothing is pushed', async () => {
    const before = await head(branch)
    const branches = await world.github.git.branches(REPO)
    const run = await work(pullIssue(closed), 'closed3', { 'closed-3.txt': 'not pushed\n' })

    expect(run.outputs['issue-ref']).toBe(`github.com/${REPO}#44`)
    expect(run.outputs.branch).toBe('')
    expect(run.outputs.commit).toBe('')
    expect(await head(branch)).toBe(before)
    expect(await world.github.git.branches(REPO)).toEqual(branches)
    const reply = replyOf(run)
    expect(reply).toContain(`#${closed} is closed: this turn worked on its head read-only`)
    expect(reply).toContain("The agent's changes were not pushed.")
    expect(run.comments.every((comment) => comment.issueNumber === closed)).toBe(true)
  })
})

describe("a comment on kugetsu's merged pull request", () => {
  test('is read-only: the reply says it is merged, nothing is pushed', async () => {
    const issue = newIssue(46)
    const first = await work(issue, 'onmerged1', { 'on-merged-1.txt': 'one\n' })
    const merged = Number(first.outputs['pull-request-number'])
    await world.github.mergePullRequest(REPO, merged)
    const branches = await world.github.git.branches(REPO)
    const before = await head('kugetsu/issue-46')

    const run = await work(pullIssue(merged), 'onmerged2', { 'on-merged-2.txt': 'no\n' })
    expect(run.outputs.commit).toBe('')
    expect(await head('kugetsu/issue-46')).toBe(before)
    expect(await world.github.git.branches(REPO)).toEqual(branches)
    expect(replyOf(run)).toContain(`#${merged} is merged: this turn worked on its head read-only`)
    expect(pullsFrom('kugetsu/issue-46')).toHaveLength(1)
  })
})

describe('command: destroy with delete-branch', () => {
  const destroy = async (number: number, deleteBranch = true) => {
    const inputs: Record<string, string> = { command: 'destroy', 'issue-ref': String(number) }
    if (deleteBranch) inputs['delete-branch'] = 'true'
    const run = await world.run({ event: dispatchEvent(world.context, 'alice'), inputs })
    expectSuccess(run)
    return run
  }

  /** kugetsu's branch for `number` with a pull request from it, as a person could leave them. */
  const branchWithPull = async (number: number) => {
    const branch = `kugetsu/issue-${number}`
    await world.github.git.commit(REPO, branch, { [`d-${number}.txt`]: 'work\n' })
    const pull = await world.github.openPullRequest(REPO, { headRef: branch, title: 'work' })
    return { branch, pull: pull.number }
  }

  test("deletes the branch of a merged pull request, with the issue's session", async () => {
    const issue = newIssue(51)
    const turn = await work(issue, 'd51', { 'd51.txt': 'work\n' })
    await world.github.mergePullRequest(REPO, Number(turn.outputs['pull-request-number']), {
      method: 'squash'
    })
    const run = await destroy(51)
    expect(await head('kugetsu/issue-51')).toBeUndefined()
    expect(Number(run.outputs['deleted-entries'])).toBeGreaterThanOrEqual(1)
    expect(run.result.summary).toContain('Deleted the branch kugetsu/issue-51.')
  })

  test('deletes the branch of a pull request closed with the branch as it is', async () => {
    const { branch, pull } = await branchWithPull(52)
    world.github.closePullRequest(REPO, pull)
    const run = await destroy(52)
    expect(await head(branch)).toBeUndefined()
    expect(run.result.summary).toContain(`Deleted the branch ${branch}.`)
  })

  test.each([
    [53, 'open', 'its pull request #PR is open'],
    [54, 'no pull request', 'no pull request took its commits'],
    [55, 'pushed after the merge', 'it has commits pushed after #PR was merged'],
    [56, 'pushed after the close', 'it has commits pushed after #PR was closed']
  ])('keeps #%i branch: %s', async (number, what, reason) => {
    const branch = `kugetsu/issue-${number}`
    let pull = 0
    if (what === 'no pull request') {
      await world.github.git.commit(REPO, branch, { 'x.txt': 'x\n' })
    } else {
      pull = (await branchWithPull(number)).pull
      if (what === 'pushed after the merge') await world.github.mergePullRequest(REPO, pull)
      if (what === 'pushed after the close') world.github.closePullRequest(REPO, pull)
      if (what !== 'open') await world.github.git.commit(REPO, branch, { 'later.txt': 'later\n' })
    }
    const before = await head(branch)
    const run = await destroy(number)
    expect(await head(branch)).toBe(before)
    expect(run.result.summary).toContain(
      `Kept the branch ${branch}: ${reason.replace('PR', String(pull))}.`
    )
  })

  test('without delete-branch, a merged branch is left alone', async () => {
    const { branch, pull } = await branchWithPull(57)
    await world.github.mergePullRequest(REPO, pull)
    const before = await head(branch)
    const run = await destroy(57, false)
    expect(await head(branch)).toBe(before)
    expect(run.result.summary).not.toContain(`the branch ${branch}`)
    expect(run.github.filter((request) => request.method === 'DELETE')).toEqual(
      run.github.filter(
        (request) => request.method === 'DELETE' && request.path.includes('/actions/caches')
      )
    )
  })
})

describe('manual runs (workflow_dispatch)', () => {
  const manual = (number: number, message: string) =>
    world.run({
      event: dispatchEvent(world.context, 'alice', { 'issue-ref': `#${number}`, message }),
      inputs: { 'issue-ref': `#${number}`, message }
    })

  test('work like a comment: the branch, the commit, the pull request, one reply', async () => {
    newIssue(60)
    writes.set('manual1', { 'manual.txt': 'by hand\n' })
    const run = await manual(60, `${WORK} manual1 please`)
    expectSuccess(run)
    expect(run.outputs.branch).toBe('kugetsu/issue-60')
    expect(await world.github.git.show(REPO, 'kugetsu/issue-60', 'manual.txt')).toBe('by hand\n')
    const pulls = pullsFrom('kugetsu/issue-60')
    expect(pulls).toHaveLength(1)
    expect(pulls[0].draft).toBe(true)
    expect(run.comments).toHaveLength(1)
    expect(replyOf(run)).toContain(`pull request [#${pulls[0].number}]`)
  })

  test('a failed manual run adds no comment: it only edits its own "working on it" comment', async () => {
    newIssue(61)
    const run = await manual(61, `${DOOMED} please`)
    expect(run.result.exitCode).toBe(1)
    // the one comment is the run's own "working on it" comment, told of the failure
    expect(run.comments).toHaveLength(1)
    const [comment] = run.comments
    expect(world.github.state.comments.get(comment.id)?.body).toContain('kugetsu failed')
    expect(await head('kugetsu/issue-61')).toBeUndefined()
    expect(pullsFrom('kugetsu/issue-61')).toEqual([])
  })

  test('a manual run on an issue that does not exist fails with no comment at all', async () => {
    const run = await manual(69, `${WORK} nowhere please`)
    expect(run.result.exitCode).toBe(1)
    expect(run.comments).toEqual([])
    expect(await head('kugetsu/issue-69')).toBeUndefined()
  })
})

describe('the inputs that shape the pull request and the branch', () => {
  test('pull-request: ready opens a pull request ready for review', async () => {
    const run = await work(
      newIssue(70),
      'ready',
      { 'ready.txt': 'r\n' },
      {
        'pull-request': 'ready'
      }
    )
    const [pull] = pullsFrom('kugetsu/issue-70')
    expect(pull.draft).toBe(false)
    expect(run.outputs['pull-request-number']).toBe(String(pull.number))
  })

  test('pull-request: none pushes the work and opens none', async () => {
    const run = await work(newIssue(71), 'nopr', { 'nopr.txt': 'n\n' }, { 'pull-request': 'none' })
    expect(run.outputs.branch).toBe('kugetsu/issue-71')
    expect(await world.github.git.show(REPO, 'kugetsu/issue-71', 'nopr.txt')).toBe('n\n')
    expect(pullsFrom('kugetsu/issue-71')).toEqual([])
    expect(run.outputs['pull-request-number']).toBe('')
    expect(replyOf(run)).not.toContain('pull request [#')
  })

  test('branch-prefix: bots/kugetsu- names the branch bots/kugetsu-issue-N', async () => {
    const inputs = { 'branch-prefix': 'bots/kugetsu-' }
    const run = await work(newIssue(72), 'prefixed', { 'prefixed.txt': 'p\n' }, inputs)
    expect(run.outputs.branch).toBe('bots/kugetsu-issue-72')
    expect(await world.github.git.show(REPO, 'bots/kugetsu-issue-72', 'prefixed.txt')).toBe('p\n')
    expect(await head('kugetsu/issue-72')).toBeUndefined()
    const [pull] = pullsFrom('bots/kugetsu-issue-72')
    expect(pull.baseRef).toBe('main')
    expect(run.outputs['pull-request-number']).toBe(String(pull.number))
  })
})
