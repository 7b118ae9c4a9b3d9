/**
 * The action end to end: the bundled dist/index.js, launched like the runner launches it (inputs
 * with action.yml's defaults, an event payload file, a fresh HOME and runner directories for every
 * run, so only the Actions cache carries state from one run to the next), driving the real
 * opencode binary against a scripted model, with the Actions cache (v2 and v1) and the GitHub REST
 * API stood in for on loopback.
 *
 * The tests of a describe block run in order and build on each other: the issue's first comment
 * starts its session, the next ones continue it. opencode starts cost seconds each, so every run
 * is checked for everything it can show.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { DEFAULT_BASE_PROMPT } from '../src/engine.js'
import { cleanupJobs, type ActionEvent } from './support/action-runner.js'
import {
  createKugetsuWorld,
  createOpencodeRig,
  dispatchEvent,
  expectSuccess as expectRunSuccess,
  issueCommentEvent,
  lookupKeys,
  readActionDefinition,
  type KugetsuWorld,
  type OpencodeRig,
  type OpencodeStart,
  type WorldRun
} from './support/action-e2e.js'
import { archiveFiles } from './support/cache-server.js'
import { ACTIONS_BOT, type Issue } from './support/github-api.js'
import { echoText, type Reply, type ScriptContext } from './support/model-server.js'
import { caselessFact } from '../src/action/cache/key-facts.js'
import { endsWithRequest, requestText } from './support/frame-parser.js'

const REPO = 'octo-org/octo-repo'
const PREFIX = 'kugetsu-v1'
/** A message containing this makes the scripted model fail with HTTP 500, however often asked. */
const DOOMED = 'DOOMED'
/** A message containing this makes the scripted model run `env` with the bash tool first. */
const ENV_CHECK = 'ENV-CHECK'

const declaredOutputs = new Set(readActionDefinition().outputs)
const timings: string[] = []

let rig: OpencodeRig

/** The scripted model: an echo of what it was told, except for the two trigger words above. */
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
  if (last.includes(ENV_CHECK)) {
    if (request.toolResults.length === 0) {
      return { type: 'tool', tool: 'bash', input: { command: 'env', description: 'Print env' } }
    }
    return { type: 'text', text: `${echoText({ ...request, toolResults: [] })}\nenv checked` }
  }
  return undefined
}

beforeAll(async () => {
  rig = await createOpencodeRig({ script: scriptedModel, scratchPrefix: 'kugetsu-action-e2e-' })
})

afterAll(async () => {
  await rig?.close()
  cleanupJobs()
  if (timings.length > 0) console.log(`kugetsu action e2e runs:\n${timings.join('\n')}`)
})

/** People with write access to the repository, who may address kugetsu by default. */
const WRITERS = ['alice', 'bob', 'carol', 'dave']

async function newWorld(
  options: Pick<Parameters<typeof createKugetsuWorld>[0], 'protocol' | 'serverUrl'> & {
    lowercaseKeys?: boolean
    firstRunId: number
  }
): Promise<KugetsuWorld> {
  const world = await createKugetsuWorld({
    ...rig.worldOptions,
    ...options,
    repo: REPO
  })
  for (const login of WRITERS) world.github.state.setPermission(REPO, login, 'write')
  return world
}

// ---------------------------------------------------------------------------------------------
// Assertions shared by the runs

/** `command` of each opencode start, with `+session` / `+fork` for runs that continue or fork. */
function startsOf(starts: OpencodeStart[]): string[] {
  return starts.map(
    (start) => `${start.command}${start.session ? '+session' : ''}${start.fork ? '+fork' : ''}`
  )
}

/**
 * Every opencode that works on a session ran in the checkout and was told so through `$PWD`,
 * which opencode goes by (the runner's own PWD leaks into the step's environment).
 */
function expectOpencodeInWorkspace(run: WorldRun): void {
  const sessionStarts = run.opencode.filter((start) => start.command !== '--version')
  expect(sessionStarts.length).toBeGreaterThan(0)
  for (const start of sessionStarts) {
    expect({ command: start.command, cwd: start.cwd, pwd: start.pwd }).toEqual({
      command: start.command,
      cwd: run.result.job.workspace,
      pwd: run.result.job.workspace
    })
  }
}

/** Records a run's wall time and opencode starts (each with the second it began at). */
function note(label: string, run: WorldRun): void {
  const seconds = (ms: number) => (ms / 1000).toFixed(1)
  const starts = startsOf(run.opencode).map((start, index) => {
    const at = run.opencode[index].at - run.startedAt
    return Number.isFinite(at) ? `${start} @${seconds(at)}` : start
  })
  timings.push(
    `  ${label.padEnd(40)} ${seconds(run.result.durationMs).padStart(5)} s, ` +
      `${run.opencode.length} opencode starts: ${starts.join(', ') || 'none'}`
  )
}

/** A run that worked: exit 0, no error annotation, only outputs action.yml declares. */
function expectSuccess(run: WorldRun): void {
  expectRunSuccess(run)
  expect(run.result.fileCommandErrors).toEqual([])
  for (const name of Object.keys(run.outputs)) expect(declaredOutputs).toContain(name)
  if (run.outputs.skipped !== 'true') expectOpencodeInWorkspace(run)
}

/** The chat requests of a run (title requests aside). */
function chats(run: WorldRun) {
  return run.model.filter((request) => request.kind === 'chat')
}

/** What the reply comment says after the agent's text: footer and hidden marker. */
function expectReply(
  run: WorldRun,
  facts: { verb: 'Started' | 'Continued'; turn: number; serverUrl: string }
): void {
  expect(run.comments).toHaveLength(1)
  const [comment] = run.comments
  const { outputs } = run
  expect(comment.user).toBe(ACTIONS_BOT.login)
  expect(outputs['comment-id']).toBe(String(comment.id))
  expect(outputs['comment-url']).toBe(
    `${facts.serverUrl}/${REPO}/issues/${comment.issueNumber}#issuecomment-${comment.id}`
  )
  const body = comment.body
  expect(body.startsWith(outputs.response.trim())).toBe(true)
  const footer = body.slice(outputs.response.trim().length)
  const sessionId = outputs['session-id']
  expect(footer).toContain(`${facts.verb} session \`${sessionId.slice(0, 14)}`)
  expect(footer).toContain(`turn ${facts.turn}`)
  const tokensIn = Number(outputs['tokens-input']).toLocaleString('en-US')
  const tokensOut = Number(outputs['tokens-output']).toLocaleString('en-US')
  expect(footer).toContain(`${tokensIn} in / ${tokensOut} out tokens`)
  expect(footer).toMatch(/ · \$\d+\.\d{2,4} · /)
  expect(footer).toMatch(/ · \d+(\.\d)? s · | · \d+ min \d+ s · /)
  expect(footer).toContain(`[run](${facts.serverUrl}/${REPO}/actions/runs/${run.runId})`)
  expect(footer).toMatch(/<!-- kugetsu: session=\S+ ref=\S+ turn=\d+ -->\s*$/)
  expect(footer).toContain(`session=${sessionId}`)
  expect(footer).toContain(`turn=${facts.turn}`)
}

function expectUsage(run: WorldRun): void {
  expect(Number(run.outputs['tokens-input'])).toBeGreaterThan(0)
  expect(Number(run.outputs['tokens-output'])).toBeGreaterThan(0)
  expect(Number(run.outputs.cost)).toBeGreaterThan(0)
}

function commentOn(world: KugetsuWorld, issue: Issue, body: string, user: string): ActionEvent {
  const comment = world.github.state.addComment(REPO, issue.number, { body, user })
  return issueCommentEvent(world.context, issue, comment)
}

/** The issue's stored record inside a cache entry, with its session export as `session`. */
function issueRecord(
  run: WorldRun,
  number: number
): Record<string, unknown> & { session: { info: { id: string; directory: string } } } {
  const entry = run.saved.find((e) => e.key.startsWith(`${PREFIX}-issue-${number}-`))
  if (!entry) throw new Error(`run ${run.runId} saved no entry for #${number}`)
  const files = archiveFiles(entry)
  const name = Object.keys(files).find((path) => /^issues\/[^/]+\/record\.json$/.test(path))
  if (!name) throw new Error(`entry ${entry.key} holds ${Object.keys(files).join(', ')}`)
  expect(Object.keys(files)).toContain(name.replace('record.json', 'session.json'))
  return {
    ...(JSON.parse(files[name]) as Record<string, unknown>),
    session: JSON.parse(files[name.replace('record.json', 'session.json')]) as {
      info: { id: string; directory: string }
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('on github.com (cache protocol v2)', () => {
  const SERVER = 'https://github.com'
  let world: KugetsuWorld
  let seven: Issue
  let first: WorldRun
  let second: WorldRun
  let init: WorldRun

  beforeAll(async () => {
    world = await newWorld({ protocol: 'v2', serverUrl: SERVER, firstRunId: 2000 })
    seven = world.github.state.addIssue(REPO, {
      number: 7,
      title: 'Add a --verbose flag',
      body: 'The CLI should say what it does when asked to.',
      user: 'alice'
    })
  })
  afterAll(() => world?.close())

  test('the first /kugetsu comment on an issue starts its session from a new base', async () => {
    first = await world.run({ event: commentOn(world, seven, '/kugetsu hello', 'alice') })
    note('start #7 (creates the base)', first)
    expectSuccess(first)
    const { outputs } = first
    expect(outputs).toMatchObject({
      skipped: 'false',
      'skip-reason': '',
      mode: 'start',
      'issue-ref': `github.com/${REPO}#7`,
      'state-restored': 'false'
    })
    expect(outputs['session-id']).toMatch(/^ses_/)
    expect(outputs['base-session-id']).toMatch(/^ses_/)
    expect(outputs['session-id']).not.toBe(outputs['base-session-id'])
    expectUsage(first)

    // The base session was made from the base prompt, then forked for the issue, whose first
    // message carries the issue itself and the comment without the trigger.
    const [base, fork] = chats(first)
    expect(base.userTexts).toEqual([DEFAULT_BASE_PROMPT])
    expect(fork.userTexts).toHaveLength(2)
    expect(fork.userTexts[0]).toBe(DEFAULT_BASE_PROMPT)
    const prompt = fork.userTexts[1]
    expect(prompt).toContain(`github.com/${REPO}#7`)
    expect(prompt).toMatch(
      /Title:\n<untrusted-text nonce="[0-9a-f]{24}" source="issue-title" author="alice" trusted="yes">\nAdd a --verbose flag\n/
    )
    expect(prompt).toContain(`URL: ${SERVER}/${REPO}/issues/7`)
    expect(prompt).toContain('Opened by: @alice')
    expect(prompt).toContain('The CLI should say what it does when asked to.')
    expect(prompt).toMatch(endsWithRequest('alice', 'hello'))
    expect(prompt).not.toContain('/kugetsu')
    expect(chats(first)).toHaveLength(2)
    expect(outputs.response).toBe(echoText(fork))

    expectReply(first, { verb: 'Started', turn: 1, serverUrl: SERVER })
    expect(first.result.summary).toContain(`kugetsu: started github.com/${REPO}#7`)
    expect(first.result.summary).toContain(outputs['session-id'])
    expect(first.result.summary).toContain('ECHO[n=2]')

    // One base entry and one entry for the issue, keyed by stream, run and turn.
    const keys = first.saved.map((entry) => entry.key).sort()
    expect(keys).toHaveLength(2)
    expect(keys[0]).toMatch(new RegExp(`^${PREFIX}-base-[0-9a-f]{16}-${first.runId}-1$`))
    expect(keys[1]).toBe(
      `${PREFIX}-issue-7-${first.runId}-1-t1-${caselessFact(outputs['session-id'])}`
    )
    const record = issueRecord(first, 7)
    expect(record).toMatchObject({
      ref: `github.com/${REPO}#7`,
      sessionId: outputs['session-id'],
      baseSessionId: outputs['base-session-id'],
      turns: 1
    })
    // The session was opencode's in the checkout (not in the runner's PWD).
    expect(record.session.info).toMatchObject({
      id: outputs['session-id'],
      directory: first.result.job.workspace
    })
    expect(first.github.every((r) => r.authorization === `token ${world.github.token}`)).toBe(true)
    // The event carried the issue: only the permission was read.
    expect(first.github.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${REPO}/collaborators/alice/permission`,
      expect.stringMatching(new RegExp(`^POST /repos/${REPO}/issues/comments/\\d+/reactions$`)),
      // "working on it", then the thread (has kugetsu answered here before?), then the answer
      `POST /repos/${REPO}/issues/7/comments`,
      `GET /repos/${REPO}/issues/7/comments`,
      `PATCH /repos/${REPO}/issues/comments/${first.outputs['comment-id']}`
    ])
    // 👀 on the trigger comment, before any opencode start.
    const trigger = world.github.state.commentsOf(REPO, 7)[0]
    expect(trigger.reactions.map((r) => `${r.content} ${r.user}`)).toEqual([
      'eyes github-actions[bot]'
    ])
    // One opencode serve creates the base, forks it and runs the turn: no other opencode start.
    expect(startsOf(first.opencode)).toEqual(['--version', 'serve'])
  }, 180_000)

  test('the next comment continues the same session with its whole history', async () => {
    second = await world.run({
      event: commentOn(world, seven, 'What did I ask? /kugetsu', 'bob')
    })
    note('continue #7', second)
    expectSuccess(second)
    const { outputs } = second
    expect(outputs).toMatchObject({
      skipped: 'false',
      mode: 'continue',
      'issue-ref': `github.com/${REPO}#7`,
      'session-id': first.outputs['session-id'],
      'base-session-id': first.outputs['base-session-id'],
      'state-restored': 'true'
    })
    expectUsage(second)
    const [turn] = chats(second)
    expect(chats(second)).toHaveLength(1)
    expect(turn.userTexts).toHaveLength(3)
    expect(turn.userTexts[1]).toMatch(endsWithRequest('alice', 'hello'))
    expect(turn.userTexts[2]).toMatch(endsWithRequest('bob', 'What did I ask?'))
    expect(outputs.response).toMatch(/^ECHO\[n=3\]: /)
    expect(outputs.response).toMatch(/hello\n<\/request-text nonce="[0-9a-f]{24}"> \| \[kugetsu\] /)
    expect(outputs.response).toMatch(/\nWhat did I ask\?\n<\/request-text nonce="[0-9a-f]{24}">$/)
    expectReply(second, { verb: 'Continued', turn: 2, serverUrl: SERVER })

    // Only the issue's stream was looked up (restored, then checked for a newer entry before the
    // save); no base was looked up or made, and no session index on github.com (its caches REST
    // API lists). One download: the issue's restore.
    const lookups = second.cache.filter((r) => r.kind === 'lookup').map(lookupKeys)
    expect(lookups).toEqual([
      [`${PREFIX}-issue-7-`, `${PREFIX}-issue-7-`],
      [`${PREFIX}-issue-7-`, `${PREFIX}-issue-7-`]
    ])
    expect(second.cache.filter((r) => r.kind === 'download' && r.method === 'GET')).toHaveLength(1)
    expect(second.saved.map((entry) => entry.key)).toEqual([
      `${PREFIX}-issue-7-${second.runId}-1-t2-${caselessFact(outputs['session-id'])}`
    ])
    const firstIssueEntry = first.saved.find((entry) => entry.key.startsWith(`${PREFIX}-issue-7-`))
    expect(second.result.summary).toContain(`restored from ${firstIssueEntry?.key}`)
    // The server imports the session (as sync events), runs the turn and reads it back.
    expect(startsOf(second.opencode)).toEqual(['--version', 'serve'])
  }, 150_000)

  test('comments that are not requests, edits and other events are skipped at once', async () => {
    const comment = (body: string, action: 'created' | 'edited' = 'created') => {
      const posted = world.github.state.addComment(REPO, 7, { body, user: 'alice' })
      return issueCommentEvent(world.context, seven, posted, action)
    }
    const cases: { event: ActionEvent; reason: RegExp }[] = [
      { event: comment('hello /kugetsux'), reason: /does not contain \/kugetsu/ },
      { event: comment('see a/kugetsu/b'), reason: /does not contain/ },
      { event: comment('> /kugetsu do it\n\nAgreed, someone should.'), reason: /does not contain/ },
      { event: comment('Try:\n\n```\n/kugetsu hello\n```\n'), reason: /does not contain/ },
      { event: comment('/kugetsu hello', 'edited'), reason: /edited/ },
      {
        event: { name: 'push', payload: { ref: 'refs/heads/main', commits: [] } },
        reason: /push event is not handled/
      },
      {
        event: {
          name: 'issues',
          payload: { action: 'opened', issue: { number: 7, title: seven.title } }
        },
        reason: /issues opened/
      }
    ]
    const before = {
      model: rig.model.requests.length,
      cache: world.cache.requests.length,
      github: world.github.requests.length
    }
    const runs = await Promise.all(
      cases.map(({ event }) => world.run({ event, isolate: true, timeoutMs: 60_000 }))
    )
    for (const [index, run] of runs.entries()) {
      expectSuccess(run)
      expect(run.outputs.skipped).toBe('true')
      expect(run.outputs['skip-reason']).toMatch(cases[index].reason)
      expect(run.opencode).toEqual([])
      expect(run.saved).toEqual([])
      expect(run.comments).toEqual([])
      // Nothing but node and the bundle: well under the seconds a single opencode start takes.
      expect(run.result.durationMs).toBeLessThan(15_000)
    }
    note(`skip (slowest of ${runs.length}, in parallel)`, {
      ...runs[0],
      result: { ...runs[0].result, durationMs: Math.max(...runs.map((r) => r.result.durationMs)) }
    })
    expect(rig.model.requests.length).toBe(before.model)
    expect(world.cache.requests.length).toBe(before.cache)
    expect(world.github.requests.length).toBe(before.github)
  }, 60_000)

  test('manual runs on a missing issue or without a message fail at once', async () => {
    // One after the other, so each run's share of the stand-ins' logs is its own.
    const missing = await world.run({
      event: dispatchEvent(world.context, 'carol'),
      inputs: { 'issue-ref': '404', message: 'anyone there?' }
    })
    const empty = await world.run({
      event: dispatchEvent(world.context, 'carol'),
      inputs: { 'issue-ref': '#7', message: '  ' }
    })
    const runs = [missing, empty]
    for (const run of runs) {
      expect(run.result.exitCode).toBe(1)
      expect(run.opencode).toEqual([])
      expect(run.cache).toEqual([])
      expect(run.model).toEqual([])
      expect(run.comments).toEqual([])
      expect(run.result.durationMs).toBeLessThan(15_000)
    }
    expect(missing.result.annotations.filter((a) => a.level === 'error')).toEqual([
      expect.objectContaining({
        message: `github.com/${REPO}#404 does not exist (or github-token cannot read it)`
      })
    ])
    // The issue was read once, and nothing was posted on an issue that isn't there.
    expect(missing.github.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET /repos/${REPO}/collaborators/carol/permission 200`,
      `GET /repos/${REPO}/issues/404 404`
    ])
    expect(missing.result.annotations.filter((a) => a.level === 'warning')).toEqual([])
    expect(empty.result.annotations.filter((a) => a.level === 'error')).toEqual([
      expect.objectContaining({ message: 'a manual run needs a non-empty message input' })
    ])
    expect(empty.github.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET /repos/${REPO}/collaborators/carol/permission 200`
    ])
  }, 60_000)

  test('command: init creates a new base entry', async () => {
    init = await world.run({
      event: dispatchEvent(world.context, 'octo-org'),
      inputs: { command: 'init' }
    })
    note('init', init)
    expectSuccess(init)
    expect(init.outputs).toMatchObject({ skipped: 'false', mode: 'init' })
    expect(init.outputs['base-session-id']).toMatch(/^ses_/)
    expect(init.outputs['base-session-id']).not.toBe(first.outputs['base-session-id'])
    const baseStream = first.saved[0].key.replace(/\d+-1$/, '')
    expect(init.saved.map((entry) => entry.key)).toEqual([`${baseStream}${init.runId}-1`])
    expect(archiveFiles(init.saved[0])['base/record.json']).toContain(
      init.outputs['base-session-id']
    )
    expect(chats(init).map((request) => request.userTexts)).toEqual([[DEFAULT_BASE_PROMPT]])
    expect(init.comments).toEqual([])
    expect(startsOf(init.opencode)).toEqual(['--version', 'serve'])
  }, 120_000)

  test('a manual run on another issue starts a session of its own, apart from #7', async () => {
    world.github.state.addIssue(REPO, {
      number: 70,
      title: 'Flaky test on Windows',
      body: 'It fails one run in ten.',
      user: 'carol'
    })
    const message = `${ENV_CHECK} why does it fail?`
    const run = await world.run({
      event: dispatchEvent(world.context, 'carol', { 'issue-ref': '#70', message }),
      inputs: { 'issue-ref': '#70', message }
    })
    note('start #70 (manual, base restored)', run)
    expectSuccess(run)
    expect(run.outputs).toMatchObject({
      mode: 'start',
      'issue-ref': `github.com/${REPO}#70`,
      'state-restored': 'false',
      // forked from the newest base: the one init made
      'base-session-id': init.outputs['base-session-id']
    })
    expect(run.outputs['session-id']).not.toBe(first.outputs['session-id'])
    expectReply(run, { verb: 'Started', turn: 1, serverUrl: SERVER })
    expect(run.comments[0].issueNumber).toBe(70)

    // The issue came from the REST API, since a manual run's event does not carry it. While the
    // agent's tool ran, live progress may have edited the tracking comment before the answer did.
    const calls = run.github.map((r) => `${r.method} ${r.path}`)
    const edits = calls.filter((call, i) => !(call.startsWith('PATCH ') && call === calls[i + 1]))
    expect(edits).toEqual([
      `GET /repos/${REPO}/collaborators/carol/permission`,
      `GET /repos/${REPO}/issues/70`,
      `POST /repos/${REPO}/issues/70/comments`,
      `GET /repos/${REPO}/issues/70/comments`,
      `PATCH /repos/${REPO}/issues/comments/${run.outputs['comment-id']}`
    ])
    const requests = chats(run)
    const prompt = requests[0].userTexts[1]
    expect(prompt).toMatch(
      /source="issue-title" author="carol" trusted="yes">\nFlaky test on Windows\n/
    )
    expect(prompt).toContain('It fails one run in ten.')
    expect(prompt).toContain(`URL: ${SERVER}/${REPO}/issues/70`)
    expect(prompt).toContain('Opened by: @carol')
    expect(requestText(prompt)).toBe(message)
    expect(prompt).toMatch(
      /Message from @carol \(the request of this turn\):\n<request-text [^>]*>\n[^]*<\/request-text nonce="[0-9a-f]{24}">$/
    )
    // Nothing of #7 reached the model.
    for (const request of requests) {
      expect(request.userTexts).toHaveLength(2)
      expect(request.userTexts[0]).toBe(DEFAULT_BASE_PROMPT)
      for (const text of request.userTexts) {
        expect(text).not.toMatch(/hello|What did I ask|--verbose/)
      }
    }

    // The agent's environment has no runner credentials and no inputs (github-token among them).
    const [toolResult] = requests.flatMap((request) => request.toolResults)
    expect(toolResult?.tool).toBe('bash')
    expect(toolResult.content).toContain(`GITHUB_REPOSITORY=${REPO}`)
    expect(toolResult.content).toMatch(new RegExp(`^PWD=${run.result.job.workspace}$`, 'm'))
    expect(toolResult.content).not.toMatch(
      /^(ACTIONS_RUNTIME_TOKEN|ACTIONS_RESULTS_URL|ACTIONS_CACHE_URL|ACTIONS_ID_TOKEN_\w+|INPUT_[\w-]+|GITHUB_TOKEN)=/m
    )
    expect(toolResult.content).not.toContain(world.github.token)
    expect(toolResult.content).not.toContain(world.cache.token)
    expect(run.outputs.response).toMatch(/env checked$/)

    // #70's stream and the base were looked up, never #7's; only #70's entry was written.
    const lookups = run.cache.filter((r) => r.kind === 'lookup').map(lookupKeys)
    expect(lookups.map((keys) => keys[0])).toEqual([
      `${PREFIX}-issue-70-`,
      first.saved[0].key.replace(/\d+-1$/, ''),
      `${PREFIX}-issue-70-`
    ])
    expect(run.saved.map((entry) => entry.key)).toEqual([
      `${PREFIX}-issue-70-${run.runId}-1-t1-${caselessFact(run.outputs['session-id'])}`
    ])
    expect(startsOf(run.opencode)).toEqual(['--version', 'serve'])
  }, 150_000)

  test('a model error fails the run, reports it, and leaves the issue’s session as it was', async () => {
    const failed = await world.run({
      event: commentOn(world, seven, `/kugetsu ${DOOMED}: this breaks`, 'alice')
    })
    note('continue #7, model answers 500', failed)
    expect(failed.result.exitCode).not.toBe(0)
    expect(failed.result.timedOut).toBe(false)
    const errors = failed.result.annotations.filter((a) => a.level === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0].message).not.toContain('\n')
    expect(errors[0].message).toMatch(/model provider error: .*the model is on fire/)
    expect(chats(failed).length).toBeGreaterThan(0)
    expect(chats(failed).every((request) => request.reply?.type === 'error')).toBe(true)

    expect(failed.comments).toHaveLength(1)
    const report = failed.comments[0].body
    expect(report).toContain('**kugetsu failed:**')
    expect(report).toContain('the model is on fire')
    expect(report).toContain(`(${SERVER}/${REPO}/actions/runs/${failed.runId})`)
    expect(report).toContain('<!-- kugetsu:')
    expect(failed.saved).toEqual([])
    expect(failed.result.summary).toContain(`kugetsu failed on github.com/${REPO}#7`)
    expect(failed.result.summary).toContain(errors[0].message)
    expect(startsOf(failed.opencode)).toEqual(['--version', 'serve'])
    expectOpencodeInWorkspace(failed)

    // The next comment continues the session as it was before the failure: from the newest of
    // #7's entries (turn 2), never #70's, and without the failed message.
    const next = await world.run({
      event: commentOn(world, seven, '/kugetsu Still there?', 'alice')
    })
    note('continue #7 after the failure', next)
    expectSuccess(next)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'session-id': first.outputs['session-id'],
      'state-restored': 'true'
    })
    const [turn] = chats(next)
    expect(turn.userTexts).toHaveLength(4)
    expect(turn.userTexts.slice(2).map(requestText)).toEqual(['What did I ask?', 'Still there?'])
    // The session kept nothing of the failed turn; the new turn is told of its comment as news.
    expect(turn.userTexts.slice(0, -1).join('\n')).not.toContain(DOOMED)
    expect(turn.userTexts.at(-1)).toMatch(
      new RegExp(
        `source="comment" author="alice" date="[^"]+" trusted="yes">\n/kugetsu ${DOOMED}: this breaks\n`
      )
    )
    expect(next.result.summary).toContain(`restored from ${second.saved[0].key}`)
    expectReply(next, { verb: 'Continued', turn: 3, serverUrl: SERVER })
    expect(issueRecord(next, 7)).toMatchObject({ turns: 3, sessionId: first.outputs['session-id'] })
  }, 240_000)

  test('a cache service that cannot restore the issue’s session fails the run rather than start over', async () => {
    // @actions/cache reports a failed restore like a miss; a miss would fork a new session for
    // #7 whose entry, the newest, would hide the old one for good.
    world.cache.failNext('lookup', { status: 429 })
    const run = await world.run({
      event: commentOn(world, seven, '/kugetsu Do you remember me?', 'alice')
    })
    note('continue #7, cache lookup rate-limited', run)
    expect(run.result.exitCode).toBe(1)
    const errors = run.result.annotations.filter((a) => a.level === 'error')
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^could not read the session of github\\.com/${REPO}#7 from the Actions cache \\(.*429.*\\); nothing was changed: try again, and if it keeps failing the entry is damaged \\(to start github\\.com/${REPO}#7 over, run kugetsu with command: destroy and issue-ref: 7\\)$`
        )
      )
    ])
    expect(chats(run)).toEqual([])
    // The server starts while the state is restored; it is stopped when that fails.
    expect(startsOf(run.opencode)).toEqual(['--version', 'serve'])
    expect(run.saved).toEqual([])
    expect(run.comments).toHaveLength(1)
    expect(run.comments[0].body).toContain('**kugetsu failed:** could not read the session of')
  }, 60_000)
})

const PER_COMMAND = { 'opencode-serve': 'false' }

describe('on a GHES-like server (cache protocol v1, keys lowercased, a port in the URL)', () => {
  const SERVER = 'https://ghes.example.test:8443'
  let world: KugetsuWorld
  let seven: Issue
  let start: WorldRun

  beforeAll(async () => {
    world = await newWorld({
      protocol: 'v1',
      serverUrl: SERVER,
      lowercaseKeys: true,
      firstRunId: 3000
    })
    seven = world.github.state.addIssue(REPO, {
      number: 7,
      title: 'Support GHES',
      body: 'Our server has a port.',
      user: 'dave'
    })
  })
  afterAll(() => world?.close())

  test('the first comment starts the issue’s session', async () => {
    // This server's runs use one opencode process per command (opencode-serve: false).
    start = await world.run({
      event: commentOn(world, seven, '/kugetsu hello there', 'dave'),
      inputs: PER_COMMAND
    })
    note('start #7 (v1)', start)
    expectSuccess(start)
    expect(start.outputs).toMatchObject({
      mode: 'start',
      'issue-ref': `ghes.example.test:8443/${REPO}#7`,
      'state-restored': 'false'
    })
    expectReply(start, { verb: 'Started', turn: 1, serverUrl: SERVER })
    // v1 calls, and the archives themselves (from the archiveLocation v1 hands out).
    expect(start.cache.filter((request) => request.protocol === 'v2')).toEqual([])
    expect(start.cache.some((request) => request.protocol === 'v1')).toBe(true)
    const keys = start.saved.map((entry) => entry.key).sort()
    expect(keys).toHaveLength(2)
    expect(keys[0]).toMatch(new RegExp(`^${PREFIX}-base-[0-9a-f]{16}-${start.runId}-1$`))
    expect(keys[1]).toBe(
      `${PREFIX}-issue-7-${start.runId}-1-t1-${caselessFact(start.outputs['session-id'])}`
    )
    expect(startsOf(start.opencode)).toEqual([
      '--version',
      'run',
      'export',
      'run+session+fork',
      'export'
    ])
  }, 180_000)

  test('the next comment continues it', async () => {
    const next = await world.run({
      event: commentOn(world, seven, '/kugetsu and now?', 'dave'),
      inputs: PER_COMMAND
    })
    note('continue #7 (v1)', next)
    expectSuccess(next)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'issue-ref': `ghes.example.test:8443/${REPO}#7`,
      'session-id': start.outputs['session-id'],
      'state-restored': 'true'
    })
    expect(next.outputs.response).toMatch(
      /^ECHO\[n=3\]: [\s\S]*\nhello there\n<\/request-text nonce="[0-9a-f]{24}"> \| [\s\S]*author="dave">\nand now\?\n<\/request-text nonce="[0-9a-f]{24}">$/
    )
    expectReply(next, { verb: 'Continued', turn: 2, serverUrl: SERVER })
    expect(next.cache.filter((request) => request.protocol === 'v2')).toEqual([])
    expect(next.saved).toHaveLength(1)
    expect(startsOf(next.opencode)).toEqual(['--version', 'import', 'run+session', 'export'])
  }, 150_000)
})

describe('entries released versions saved (the session id in mixed case in the key)', () => {
  let world: KugetsuWorld

  beforeAll(async () => {
    world = await newWorld({ protocol: 'v2', serverUrl: 'https://github.com', firstRunId: 3500 })
  })
  afterAll(() => world?.close())

  test('still restore, continue and list; what is saved now is lowercase', async () => {
    const nine = world.github.state.addIssue(REPO, {
      number: 9,
      title: 'Old',
      body: '',
      user: 'alice'
    })
    const start = await world.run({ event: commentOn(world, nine, '/kugetsu hello', 'alice') })
    expectSuccess(start)
    const sessionId = start.outputs['session-id']
    const entry = start.saved.find((e) => e.key.startsWith(`${PREFIX}-issue-9-`))!
    expect(entry.key).toBe(`${PREFIX}-issue-9-${start.runId}-1-t1-${caselessFact(sessionId)}`)
    for (const saved of start.saved) expect(saved.key).toBe(saved.key.toLowerCase())
    // What a released version wrote: the session id as it is.
    entry.key = `${PREFIX}-issue-9-${start.runId}-1-t1-${sessionId}`

    const list = await world.run({
      event: dispatchEvent(world.context, 'alice'),
      inputs: { command: 'list' }
    })
    expect(JSON.parse(list.outputs.sessions)).toEqual([
      expect.objectContaining({ ref: `github.com/${REPO}#9`, sessionId, turns: 1 })
    ])
    const next = await world.run({ event: commentOn(world, nine, '/kugetsu still there?', 'bob') })
    expectSuccess(next)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'session-id': sessionId,
      'state-restored': 'true'
    })
    expect(next.result.summary).toContain(`restored from ${entry.key}`)
    expect(next.saved.map((e) => e.key)).toEqual([
      `${PREFIX}-issue-9-${next.runId}-1-t2-${caselessFact(sessionId)}`
    ])
  }, 240_000)
})
