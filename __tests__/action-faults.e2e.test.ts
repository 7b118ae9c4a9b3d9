/**
 * Faults and concurrency, end to end (the bundled action, the real opencode, loopback stand-ins):
 * parallel runs on different issues, a lost race on one issue, a reply too long for a comment, a
 * model that never answers, and failing GitHub and cache services. In every case the issue's
 * previous session survives and the next run continues it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { cleanupJobs, runPost, type ActionEvent } from './support/action-runner.js'
import {
  SHIM_CRASH_ENV,
  createTestBed,
  errorsOf,
  expectSuccess,
  issueCommentEvent,
  type KugetsuWorld,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import { endsWithRequest, requestText } from './support/frame-parser.js'
import { MAX_COMMENT_LENGTH, type Issue } from './support/github-api.js'
import type { Reply, ScriptContext } from './support/model-server.js'
import { caselessFact } from '../src/action/cache/key-facts.js'

const REPO = 'octo-org/octo-repo'
const PREFIX = 'kugetsu-v1'
/** Words in a message that change what the scripted model does. */
const LONG = 'LONG-REPLY'
const HANG = 'NEVER-ANSWER'
const RACE = 'RACE-ME'
const LONG_TEXT = Array.from({ length: 1400 }, (_, i) => `line ${i}: ${'x'.repeat(50)}`).join('\n')

let bed: TestBed
let world: KugetsuWorld
/** Called when the model gets a RACE message: another run saves the issue meanwhile. */
let onRace: (() => void) | undefined

function scriptedModel({ request }: ScriptContext): Reply | undefined {
  const last = requestText(request.userTexts.at(-1) ?? '')
  if (last.includes(LONG)) return { type: 'text', text: LONG_TEXT }
  if (last.includes(HANG)) return { type: 'hang' }
  if (last.includes(RACE)) onRace?.()
  return undefined
}

beforeAll(async () => {
  bed = await createTestBed({
    script: scriptedModel,
    repo: REPO,
    firstRunId: 7000,
    writers: ['alice', 'bob']
  })
  world = bed.world
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
})

function newIssue(number: number): Issue {
  return world.github.state.addIssue(REPO, {
    number,
    title: `Issue ${number}`,
    body: `The body of issue ${number}.`,
    user: 'alice'
  })
}

function commentOn(issue: Issue, body: string, user = 'alice'): ActionEvent {
  const comment = world.github.state.addComment(REPO, issue.number, { body, user })
  return issueCommentEvent(world.context, issue, comment)
}

const workingOn = (body: string) => body.startsWith('_kugetsu is working on it…_')
/** Live processes working in `dir` (Linux /proc), as `pid command`. */
function processesIn(dir: string): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, '')
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (cwd !== dir || state === 'Z') continue
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')}`)
    } catch {
      // gone, or not ours to read
    }
  }
  return found
}

const chats = (run: WorldRun) => run.model.filter((request) => request.kind === 'chat')
let one: Issue
let two: Issue
let oneFirst: WorldRun

describe('concurrency', () => {
  test('runs on different issues at the same time never touch each other', async () => {
    one = newIssue(31)
    two = newIssue(32)
    // Both at once, each in a job of its own; neither finds a base, so each makes one.
    const [a, b] = await Promise.all([
      world.run({ event: commentOn(one, '/kugetsu apples for 31'), isolate: true }),
      world.run({ event: commentOn(two, '/kugetsu pears for 32', 'bob'), isolate: true })
    ])
    expectSuccess(a)
    expectSuccess(b)
    oneFirst = a
    expect(a.outputs['session-id']).not.toBe(b.outputs['session-id'])
    const entries = world.cache.store.entries.filter((entry) => entry.key.includes('-issue-'))
    expect(entries.map((entry) => entry.key).sort()).toEqual(
      [
        `${PREFIX}-issue-31-${a.runId}-1-t1-${caselessFact(a.outputs['session-id'])}`,
        `${PREFIX}-issue-32-${b.runId}-1-t1-${caselessFact(b.outputs['session-id'])}`
      ].sort()
    )
    // Each reply is on its own issue and speaks only of its own message.
    const replies = (number: number) =>
      world.github.state.commentsOf(REPO, number).filter((c) => c.user.endsWith('[bot]'))
    expect(replies(31)).toHaveLength(1)
    expect(replies(31)[0].body).toContain('apples for 31')
    expect(replies(31)[0].body).not.toContain('pears')
    expect(replies(32)).toHaveLength(1)
    expect(replies(32)[0].body).toContain('pears for 32')
    expect(replies(32)[0].body).not.toContain('apples')

    // Each answer is the run's tracking comment, posted before the agent's turn, edited at the end.
    // (The runs overlap, so each one's share of the REST log holds the other's requests too.)
    for (const [run, number] of [
      [a, 31],
      [b, 32]
    ] as const) {
      const posts = run.github.filter(
        (r) => r.method === 'POST' && r.path === `/repos/${REPO}/issues/${number}/comments`
      )
      const turn = chats(run).find(
        (request) => request.headers['x-session-id'] === run.outputs['session-id']
      )
      expect(posts).toHaveLength(1)
      expect(posts[0].at.getTime()).toBeLessThanOrEqual(turn!.at)
      expect(workingOn((posts[0].json as { body: string }).body)).toBe(true)
      expect(run.github.map((r) => `${r.method} ${r.path}`)).toContain(
        `PATCH /repos/${REPO}/issues/comments/${run.outputs['comment-id']}`
      )
      expect(run.result.state['tracking-done']).toBe('true')
    }
  }, 240_000)

  test('a run that finds another run saved the issue meanwhile says so instead of dropping it silently', async () => {
    // While the model answers, "another run" saves #31: a newer entry in its stream.
    let raced = ''
    onRace = () => {
      if (raced) return
      const source = world.cache.store.entries.find((e) => e.key.startsWith(`${PREFIX}-issue-31-`))
      if (!source) throw new Error('no entry of #31 to race with')
      raced = `${PREFIX}-issue-31-9998-1-t2-${caselessFact(oneFirst.outputs['session-id'])}`
      world.cache.store.seed({
        key: raced,
        version: source.version,
        archive: source.archive,
        createdAt: new Date(Date.now() + 1_000)
      })
    }
    const run = await world.run({ event: commentOn(one, `/kugetsu ${RACE} now`) })
    onRace = undefined
    expectSuccess(run)
    expect(raced).not.toBe('')
    const note = `Another run saved a newer session for github.com/${REPO}#31 (\`${raced}\`) while this one worked`
    expect(run.comments).toHaveLength(1)
    expect(run.comments[0].body).toContain(note)
    expect(run.result.summary).toContain(note)
    const warnings = run.result.annotations.filter((a) => a.level === 'warning')
    expect(warnings.map((a) => a.message)).toContainEqual(expect.stringContaining(note))
    // Its own turn is still saved, as the newest entry (the other "run's" entry is there too).
    expect(run.saved.map((entry) => entry.key).filter((key) => key !== raced)).toEqual([
      `${PREFIX}-issue-31-${run.runId}-1-t2-${caselessFact(oneFirst.outputs['session-id'])}`
    ])
  }, 150_000)
})

describe('faults', () => {
  test('a reply longer than a comment is cut with a note; the output and summary keep all of it', async () => {
    const run = await world.run({ event: commentOn(two, `/kugetsu ${LONG} please`, 'bob') })
    expectSuccess(run)
    expect(LONG_TEXT.length).toBeGreaterThan(MAX_COMMENT_LENGTH)
    expect(run.outputs.response).toBe(LONG_TEXT)
    expect(run.result.summary).toContain(LONG_TEXT)
    const [comment] = run.comments
    expect(comment.body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(comment.body).toContain('the reply was cut here to fit a GitHub comment')
    expect(comment.body).toMatch(/<!-- kugetsu: session=\S+ ref=\S+ turn=2 -->\s*$/)
    // Cut on a line break: the last line of text before the note is whole.
    const kept = comment.body.slice(0, comment.body.indexOf('\n\n_…the reply was cut'))
    expect(LONG_TEXT.startsWith(kept)).toBe(true)
    expect(LONG_TEXT[kept.length]).toBe('\n')
  }, 150_000)

  test('GitHub API 5xx and secondary rate limits are retried; the turn succeeds', async () => {
    world.github.failNext(
      (method, path) => method === 'PATCH' && path.includes('/issues/comments/'),
      { status: 502, count: 2 }
    )
    const run = await world.run({ event: commentOn(one, '/kugetsu once more, please') })
    expectSuccess(run)
    const patches = run.github.filter((r) => r.method === 'PATCH')
    expect(patches.map((r) => r.status)).toEqual([502, 502, 200])
    expect(run.comments).toHaveLength(1)
    expect(run.comments[0].body).toContain('once more, please')
    expect(run.result.stdout).toMatch(/retry/i)
  }, 150_000)

  test('a job stopped mid-turn: the post step marks the tracking comment, the session survives', async () => {
    // The runner's own limit (or a cancel) ends the step while the model thinks.
    const killed = await world.run({
      event: commentOn(two, `/kugetsu ${HANG} for ever`, 'bob'),
      timeoutMs: 25_000
    })
    expect(killed.result.timedOut).toBe(true)
    // Its opencode serve (a process group of its own) was stopped before the step ended.
    expect(processesIn(killed.result.job.workspace)).toEqual([])
    expect(killed.comments).toHaveLength(1)
    expect(workingOn(killed.comments[0].body)).toBe(true)
    expect(killed.result.state['tracking-comment-id']).toBe(String(killed.comments[0].id))
    expect(killed.result.state['tracking-done']).toBeUndefined()

    const post = await runPost(killed.result, { entry: 'dist/post/index.js' })
    expect(post.exitCode).toBe(0)
    const comment = world.github.state.comments.get(killed.comments[0].id)!
    expect(comment.body).toContain('**kugetsu stopped without replying:**')
    expect(comment.body).toContain(`/actions/runs/${killed.runId}`)

    // After a finished run, the post step leaves the answer alone.
    const done = await runPost(oneFirst.result, { entry: 'dist/post/index.js' })
    expect(done.exitCode).toBe(0)
    expect(world.github.state.comments.get(Number(oneFirst.outputs['comment-id']))!.body).toContain(
      'apples for 31'
    )
  }, 150_000)

  test('a job stopped mid-turn with opencode per command leaves no process behind either', async () => {
    const killed = await world.run({
      event: commentOn(two, `/kugetsu ${HANG} for ever, per command`, 'bob'),
      inputs: { 'opencode-serve': 'false' },
      timeoutMs: 25_000
    })
    expect(killed.result.timedOut).toBe(true)
    expect(killed.opencode.map((start) => start.command)).toContain('run')
    // `opencode run` and what it started were stopped before the step ended.
    expect(processesIn(killed.result.job.workspace)).toEqual([])
  }, 150_000)

  test('an issue whose session was lost gets a new one that is given the thread, and says so', async () => {
    const lost = newIssue(33)
    world.github.state.addComment(REPO, 33, {
      body: '/kugetsu the secret word is MANGO',
      user: 'alice'
    })
    world.github.state.addComment(REPO, 33, {
      body: 'Noted: MANGO.\n\n---\n<sub>kugetsu · Started session</sub>\n<!-- kugetsu: session=ses_gone ref=x turn=1 -->',
      user: 'github-actions[bot]'
    })
    const run = await world.run({ event: commentOn(lost, '/kugetsu what was the word?') })
    expectSuccess(run)
    expect(run.outputs).toMatchObject({ mode: 'start', 'state-restored': 'false' })
    const [turn] = chats(run)
    const prompt = turn.userTexts.at(-1)!
    expect(prompt).toContain('that session was lost')
    expect(prompt).toContain('the secret word is MANGO')
    expect(prompt).toContain('Noted: MANGO.')
    expect(prompt).not.toContain('<!-- kugetsu')
    expect(prompt).toMatch(endsWithRequest('alice', 'what was the word?'))
    expect(run.comments[0].body).toContain('rebuilt its memory from the thread')
  }, 150_000)

  test('opencode crashing after the model answered fails the turn; nothing half-done is kept', async () => {
    // One opencode process per command, so that `export` is a process of its own to crash.
    const run = await world.run({
      event: commentOn(two, '/kugetsu remember BANANA', 'bob'),
      inputs: { 'opencode-serve': 'false' },
      env: { [SHIM_CRASH_ENV]: 'export' }
    })
    expect(run.result.exitCode).toBe(1)
    expect(run.opencode.map((start) => start.command)).toEqual([
      '--version',
      'import',
      'run',
      'export'
    ])
    expect(errorsOf(run)).toEqual([expect.stringMatching(/opencode export .*(SIGSEGV|139)/)])
    expect(run.saved).toEqual([])
    expect(run.comments[0].body).toContain('**kugetsu failed:**')
  }, 150_000)

  test('a model that never answers is stopped at timeout-minutes; the session survives', async () => {
    const run = await world.run({
      event: commentOn(two, `/kugetsu ${HANG} think hard`, 'bob'),
      inputs: { 'timeout-minutes': '0.25' }
    })
    expect(run.result.exitCode).toBe(1)
    expect(run.result.timedOut).toBe(false)
    expect(errorsOf(run)).toEqual([
      `the agent did not finish within timeout-minutes (0.25 min) and was stopped; github.com/${REPO}#32 keeps the session it had before this run`
    ])
    expect(run.saved).toEqual([])
    expect(run.comments).toHaveLength(1)
    expect(run.comments[0].body).toContain('**kugetsu failed:**')

    const next = await world.run({ event: commentOn(two, '/kugetsu are you back?', 'bob') })
    expectSuccess(next)
    expect(next.outputs).toMatchObject({ mode: 'continue', 'state-restored': 'true' })
    const [turn] = chats(next)
    const texts = turn.userTexts.join('\n')
    expect(texts).toContain('pears for 32')
    // The session kept nothing of the stopped turn; the new turn is told of its comment as news.
    expect(turn.userTexts.slice(0, -1).join('\n')).not.toContain(HANG)
    expect(turn.userTexts.at(-1)).toMatch(
      new RegExp(
        `source="comment" author="bob" date="[^"]+" trusted="yes">\n/kugetsu ${HANG} think hard\n`
      )
    )
    // Nor of the turn that crashed before (its comment, too, is only news now).
    expect(turn.userTexts.slice(0, -1).join('\n')).not.toContain('BANANA')
    expect(next.comments[0].body).toContain('turn=3')
  }, 240_000)

  test('a cache service that cannot save fails the turn clearly; the previous session survives', async () => {
    world.cache.failNext('reserve', { status: 500, count: 10 })
    const failed = await world.run({ event: commentOn(one, '/kugetsu save this please') })
    world.cache.clearFaults()
    expect(failed.result.exitCode).toBe(1)
    expect(errorsOf(failed)).toEqual([
      expect.stringMatching(/its session could not be saved to the Actions cache/)
    ])
    expect(failed.saved).toEqual([])
    expect(failed.comments).toHaveLength(1)

    const next = await world.run({ event: commentOn(one, '/kugetsu still with me?') })
    expectSuccess(next)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'session-id': oneFirst.outputs['session-id']
    })
  }, 240_000)

  test('an opencode serve that cannot start: the turn runs one opencode per command, and says so', async () => {
    const run = await world.run({
      event: commentOn(one, '/kugetsu are you there, server?'),
      env: { [SHIM_CRASH_ENV]: 'serve' }
    })
    expectSuccess(run)
    expect(run.outputs).toMatchObject({
      mode: 'continue',
      'session-id': oneFirst.outputs['session-id']
    })
    expect(run.outputs.response).toMatch(
      /\nare you there, server\?\n<\/request-text nonce="[0-9a-f]{24}">$/
    )
    expect(run.opencode.map((start) => start.command)).toEqual([
      '--version',
      'serve',
      'import',
      'run',
      'export'
    ])
    expect(
      run.result.annotations.filter((a) => a.level === 'warning').map((a) => a.message)
    ).toContainEqual(
      expect.stringMatching(
        /^opencode serve could not start \(opencode serve was killed by SIGSEGV: Segmentation fault \(simulated by the test shim\)\); running opencode per command$/
      )
    )
    expect(run.saved).toHaveLength(1)
  }, 150_000)
})
