/**
 * Trust and safety, end to end: the bundled action run like a runner runs it, against the real
 * opencode, the scripted model and the loopback stand-ins (see action.e2e.test.ts for the setup).
 *
 * - Who may trigger: only people with at least `min-permission`, listed users and listed bots; never
 *   kugetsu's own comments. Everyone else is skipped before any work, with nothing posted.
 * - Hostile input: refs that are not issues of this repository fail before any work.
 * - What is stored: nothing but kugetsu's records and session exports, with secret values
 *   redacted; with a state-key, nothing readable at all, and a wrong or missing key fails clearly.
 * - Damaged state fails clearly, naming the issue and the way out, and changes nothing.
 * - What is posted (comments, outputs, the job summary) has secret values redacted like the cache.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { parseIssueRef, refFileStem } from '../src/refs.js'
import { decryptState } from '../src/store/crypto.js'
import { cleanupJobs, type ActionEvent } from './support/action-runner.js'
import {
  createTestBed,
  dispatchEvent,
  errorsOf,
  expectSuccess,
  issueMaker,
  type KugetsuWorld,
  type TestBed,
  type WorldRun
} from './support/action-e2e.js'
import { requestText } from './support/frame-parser.js'
import {
  archiveFiles,
  decompressArchive,
  readArchive,
  type CacheEntry
} from './support/cache-server.js'
import type { Issue } from './support/github-api.js'
import { echoText, type Reply, type ScriptContext } from './support/model-server.js'
import { SCRIPTED_KEY_ENV } from './support/opencode-env.js'

const REPO = 'octo-org/octo-repo'
const PREFIX = 'kugetsu-v1'
const ENV_CHECK = 'ENV-CHECK'
/** Makes the model answer with the provider key and the GitHub token in its text. */
const LEAK_CHECK = 'LEAK-CHECK'
/** Makes the model's provider answer with an error whose message quotes the provider key. */
const LEAK_ERROR = 'LEAK-ERROR'
/** A provider key as a workflow would pass it in the step's env. */
const PROVIDER_KEY = 'sk-kugetsu-test-provider-key-0123456789'
const STATE_KEY = 'state-key-for-tests-0123456789abcdef'
/** The scripted provider's key as a workflow would set it (the harness's default is replaced). */
const REAL_SCRIPTED_KEY = 'sk-scripted-real-key-0123456789abcdef'
const OTHER_STATE_KEY = 'another-state-key-0123456789abcdef'

let bed: TestBed
let world: KugetsuWorld

/**
 * What a prompt-injected model could say: the secrets plainly and JSON-escaped, then the key over
 * and over past GitHub's comment limit, so the cut that fits the reply into a comment falls inside
 * a key.
 */
const leakyText = (token: string) =>
  `The key is ${PROVIDER_KEY} and the token is ${token}.\n` +
  `As JSON: ${JSON.stringify({ key: PROVIDER_KEY, token })}\n` +
  `${PROVIDER_KEY} `.repeat(2_000)

/**
 * Echoes, except that ENV-CHECK first makes the agent run `env` with the bash tool, LEAK-CHECK
 * makes the reply quote the secrets and LEAK-ERROR makes the provider fail quoting the key.
 */
function scriptedModel({ request }: ScriptContext): Reply | undefined {
  const last = requestText(request.userTexts.at(-1) ?? '')
  if (last.includes(LEAK_CHECK)) {
    return { type: 'text', text: leakyText(world.github.token), chunkSize: 4096 }
  }
  if (last.includes(LEAK_ERROR)) {
    return {
      type: 'error',
      status: 400,
      message: `Incorrect API key provided: ${PROVIDER_KEY}`,
      headers: { 'retry-after-ms': '0' }
    }
  }
  if (!last.includes(ENV_CHECK)) return undefined
  if (request.toolResults.length === 0) {
    return { type: 'tool', tool: 'bash', input: { command: 'env', description: 'Print env' } }
  }
  return { type: 'text', text: `${echoText({ ...request, toolResults: [] })}\nenv checked` }
}

beforeAll(async () => {
  bed = await createTestBed({
    script: scriptedModel,
    repo: REPO,
    firstRunId: 5000,
    writers: ['alice']
  })
  world = bed.world
  world.github.state.setPermission(REPO, 'tom', 'triage')
  world.github.state.addUser('mallory')
  world.github.state.addUser('erin')
  world.github.state.addUser('evil-bot[bot]', 'Bot')
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
})

const { newIssue, commentOn } = issueMaker(() => world, REPO, 20)

const chats = (run: WorldRun) => run.model.filter((request) => request.kind === 'chat')
const requestsOf = (run: WorldRun) => run.github.map((r) => `${r.method} ${r.path} ${r.status}`)

/** Nothing happened but (at most) the permission lookup: no opencode, cache, model or comment. */
function expectNothingDone(run: WorldRun): void {
  expect(run.opencode).toEqual([])
  expect(run.cache).toEqual([])
  expect(run.model).toEqual([])
  expect(run.saved).toEqual([])
  expect(run.comments).toEqual([])
}

function issueEntry(run: WorldRun, number: number): CacheEntry {
  const entry = run.saved.find((e) => e.key.startsWith(`${PREFIX}-issue-${number}-`))
  if (!entry) throw new Error(`run ${run.runId} saved no entry for #${number}`)
  return entry
}

const stemOf = (number: number) => refFileStem(parseIssueRef(`github.com/${REPO}#${number}`))

describe('who may trigger', () => {
  test('strangers, low roles, bots and kugetsu’s own comments are skipped before any work, silently', async () => {
    const issue = newIssue()
    const cases: { event: ActionEvent; reason: RegExp; lookup: string | null }[] = [
      {
        event: commentOn(issue, '/kugetsu delete the repo', 'mallory'),
        reason: /^not authorised: mallory has only read permission; write or higher is needed$/,
        lookup: 'mallory'
      },
      {
        event: commentOn(issue, '/kugetsu', 'mallory'),
        reason: /mallory has only read permission/,
        lookup: 'mallory'
      },
      {
        event: commentOn(issue, `/kugetsu ${'x'.repeat(30_000)}`, 'mallory'),
        reason: /mallory has only read permission/,
        lookup: 'mallory'
      },
      {
        event: commentOn(issue, '/kugetsu please review', 'tom'),
        reason: /tom has only triage permission; write or higher is needed/,
        lookup: 'tom'
      },
      {
        event: commentOn(issue, '/kugetsu run this', 'evil-bot[bot]'),
        reason: /the bot evil-bot\[bot\] is not in allowed-bots/,
        lookup: null
      },
      {
        // A reply of kugetsu's quoting the trigger, posted with a personal token (as alice).
        event: commentOn(
          issue,
          'Done. Say /kugetsu again to go on.\n\n<!-- kugetsu: session=ses_1 ref=x turn=1 -->',
          'alice'
        ),
        reason: /carries kugetsu’s marker/,
        lookup: null
      }
    ]
    // One after the other, so each run's share of the stand-ins' logs is its own.
    const runs: WorldRun[] = []
    for (const { event } of cases) runs.push(await world.run({ event, timeoutMs: 60_000 }))
    for (const [index, run] of runs.entries()) {
      const { reason, lookup } = cases[index]
      expectSuccess(run)
      expect(run.outputs).toMatchObject({
        skipped: 'true',
        'issue-ref': `github.com/${REPO}#${issue.number}`
      })
      expect(run.outputs['skip-reason']).toMatch(reason)
      expectNothingDone(run)
      expect(requestsOf(run)).toEqual(
        lookup ? [`GET /repos/${REPO}/collaborators/${lookup}/permission 200`] : []
      )
    }
  }, 90_000)

  test('bad authorisation inputs fail clearly before any request', async () => {
    const issue = newIssue()
    const cases: { inputs: Record<string, string>; error: string }[] = [
      {
        inputs: { 'min-permission': 'owner' },
        error: 'min-permission must be one of read, triage, write, maintain, admin; got "owner"'
      },
      {
        inputs: { 'allowed-users': 'alice bob' },
        error:
          'allowed-users has an entry that is not a GitHub login: "alice bob" (separate logins with commas or newlines)'
      },
      {
        inputs: { 'state-key': 'short' },
        error:
          'state-key must be at least 16 characters (it is 5); generate one with: openssl rand -base64 32'
      }
    ]
    const runs: WorldRun[] = []
    for (const { inputs } of cases) {
      const event = commentOn(issue, '/kugetsu hi', 'alice')
      runs.push(await world.run({ event, inputs, timeoutMs: 60_000 }))
    }
    for (const [index, run] of runs.entries()) {
      expect(run.result.exitCode).toBe(1)
      expect(errorsOf(run)).toEqual([cases[index].error])
      expectNothingDone(run)
      expect(run.github).toEqual([])
    }
  }, 90_000)
})

describe('hostile input', () => {
  test('issue-ref values that are not an issue of this repository fail at once, touching nothing', async () => {
    const cases: { ref: string; error: RegExp }[] = [
      { ref: '../../etc#1', error: /^invalid issue ref/ },
      { ref: 'owner/repo#abc', error: /^invalid issue ref/ },
      { ref: '#0', error: /^invalid issue ref/ },
      { ref: `#${'9'.repeat(10_000)}`, error: /^invalid issue ref/ },
      { ref: 'x'.repeat(10_000), error: /^invalid issue ref/ },
      {
        ref: 'other-org/other-repo#1',
        error: /^issue-ref must name an issue of octo-org\/octo-repo/
      },
      {
        ref: 'https://evil.example.com/octo-org/octo-repo/issues/1',
        error: /must name an issue of/
      }
    ]
    const runs = await Promise.all(
      cases.map(({ ref }) =>
        world.run({
          event: dispatchEvent(world.context, 'alice', { 'issue-ref': ref, message: 'hi' }),
          inputs: { 'issue-ref': ref, message: 'hi' },
          isolate: true,
          timeoutMs: 60_000
        })
      )
    )
    for (const [index, run] of runs.entries()) {
      expect(run.result.exitCode).toBe(1)
      const errors = errorsOf(run)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(cases[index].error)
      expect(errors[0].length).toBeLessThan(400)
      expect(errors[0]).not.toContain('\n')
      expectNothingDone(run)
      expect(run.github).toEqual([])
    }
  }, 90_000)
})

describe('what is stored', () => {
  let issue: Issue
  let first: WorldRun

  test('a listed user is admitted; the cache holds only records and exports, with secrets redacted', async () => {
    issue = newIssue()
    first = await world.run({
      event: commentOn(issue, `/kugetsu ${ENV_CHECK} what do you see?`, 'erin'),
      inputs: { 'allowed-users': 'Erin' },
      env: { OPENAI_API_KEY: PROVIDER_KEY }
    })
    expectSuccess(first)
    expect(first.outputs).toMatchObject({ skipped: 'false', mode: 'start' })
    expect(first.result.stdout).toContain('Authorised: erin is in allowed-users')
    expect(first.result.masks).toEqual(expect.arrayContaining([PROVIDER_KEY, world.github.token]))

    // Public repository, no state-key: a warning in the log and the summary.
    const warnings = first.result.annotations.filter((a) => a.level === 'warning')
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^This repository is public and state-key is not set/)
    ])
    expect(first.result.summary).toContain('This repository is public and state-key is not set')

    // The agent had neither the provider key (kugetsu's key proxy holds it) nor a GitHub token.
    const [toolResult] = chats(first).flatMap((request) => request.toolResults)
    expect(toolResult.content).not.toContain(PROVIDER_KEY)
    expect(toolResult.content).toMatch(/^OPENAI_API_KEY=kugetsu-key-proxy-[0-9a-f]{32}$/m)
    expect(toolResult.content).not.toMatch(/^(GITHUB_TOKEN|GH_TOKEN)=/m)
    // opencode passes its own environment on, so the agent can see the password of this run's
    // opencode serve (what SECURITY.md says about opencode-serve)
    expect(toolResult.content).toMatch(/^OPENCODE_SERVER_PASSWORD=[\w-]{32}$/m)

    expect(first.saved).toHaveLength(2)
    for (const entry of first.saved) {
      const members = readArchive(entry)
      for (const member of members) {
        expect(member.path).toMatch(/^(base|issues\/[^/]+)(\/(record|session)\.json)?\/?$/)
      }
      const tar = decompressArchive(entry.archive).toString('utf8')
      expect(tar).not.toContain('auth.json')
      expect(tar).not.toContain(PROVIDER_KEY)
      expect(tar).not.toContain(world.github.token)
    }
    // The env output the agent saw is kept in the session, with the server password redacted.
    const files = archiveFiles(issueEntry(first, issue.number))
    expect(files[`issues/${stemOf(issue.number)}/session.json`]).toContain(
      'OPENCODE_SERVER_PASSWORD=***'
    )
  }, 150_000)

  test('expose-github-token gives the agent the token, and the cache still never holds it', async () => {
    const run = await world.run({
      event: commentOn(issue, `/kugetsu ${ENV_CHECK} and now?`, 'alice'),
      inputs: { 'expose-github-token': 'true' }
    })
    expectSuccess(run)
    expect(run.outputs.mode).toBe('continue')
    const [toolResult] = chats(run).flatMap((request) => request.toolResults)
    expect(toolResult.content).toContain(`GITHUB_TOKEN=${world.github.token}`)
    expect(toolResult.content).toContain(`GH_TOKEN=${world.github.token}`)
    expect(toolResult.content).not.toMatch(/^(ACTIONS_RUNTIME_TOKEN|INPUT_[\w-]+)=/m)
    const tar = decompressArchive(issueEntry(run, issue.number).archive).toString('utf8')
    expect(tar).toContain('GITHUB_TOKEN=***')
    expect(tar).not.toContain(world.github.token)
  }, 150_000)

  test('damaged cached state fails clearly, naming the issue and the way out, and changes nothing', async () => {
    const good = issueEntry(first, issue.number)
    const path = `issues/${stemOf(issue.number)}/session.json`
    // The newest entry of the stream: the session's JSON cut short (same length, so the tar holds).
    const damaged = world.cache.store.seed({
      key: `${PREFIX}-issue-${issue.number}-9999-1-t9-ses_damaged`,
      version: good.version,
      archive: rewriteMember(good.archive, path, (text) => text.slice(0, text.length / 2)),
      createdAt: new Date(Date.now() + 60_000)
    })
    const run = await world.run({ event: commentOn(issue, '/kugetsu still there?', 'alice') })
    expect(run.result.exitCode).toBe(1)
    const ref = `github.com/${REPO}#${issue.number}`
    expect(errorsOf(run)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the stored session of ${ref.replace(/[.#/]/g, '\\$&')} is unreadable, truncated or damaged \\(.*\\); destroy it and start again \\(to start ${ref.replace(/[.#/]/g, '\\$&')} over, run kugetsu with command: destroy and issue-ref: ${issue.number}\\)$`
        )
      )
    ])
    expect(run.result.stderr).not.toMatch(/\n\s+at /)
    expect(chats(run)).toEqual([])
    // Only the server, started while the state was restored: no session was imported or run.
    expect(run.opencode.map((start) => start.command)).toEqual(['--version', 'serve'])
    expect(run.saved).toEqual([])
    expect(run.comments).toHaveLength(1)
    expect(run.comments[0].body).toContain('**kugetsu failed:** the stored session of')

    // A truncated archive: the restore itself fails, and the run says what to do.
    world.cache.store.delete(damaged.id)
    world.cache.store.seed({
      key: `${PREFIX}-issue-${issue.number}-9999-1-t9-ses_truncated`,
      version: good.version,
      archive: good.archive.subarray(0, Math.floor(good.archive.length / 2)),
      createdAt: new Date(Date.now() + 60_000)
    })
    const truncated = await world.run({ event: commentOn(issue, '/kugetsu and now?', 'alice') })
    expect(truncated.result.exitCode).toBe(1)
    expect(errorsOf(truncated)).toEqual([
      expect.stringMatching(
        /^could not read the session of .* from the Actions cache \(.*\); nothing was changed: try again, and if it keeps failing the entry is damaged \(to start .* over, run kugetsu with command: destroy and issue-ref: \d+\)$/
      )
    ])
    expect(chats(truncated)).toEqual([])
    expect(truncated.saved).toEqual([])
  }, 120_000)
})

describe('provider keys', () => {
  test('the provider key stays with kugetsu: the model gets it through the proxy, the agent never sees it', async () => {
    const issue = newIssue()
    const run = await world.run({
      event: commentOn(issue, `/kugetsu ${ENV_CHECK} which key?`, 'alice'),
      // As a workflow passes it: `env: SCRIPTED_KEY: ${{ secrets.... }}` on the step.
      env: { [SCRIPTED_KEY_ENV]: REAL_SCRIPTED_KEY }
    })
    expectSuccess(run)
    expect(run.outputs.response).toContain('env checked')
    expect(run.result.masks).toContain(REAL_SCRIPTED_KEY)
    // Every model request (titles too) went through the key proxy, which gave the real key.
    expect(run.model.length).toBeGreaterThanOrEqual(2)
    for (const request of run.model) {
      expect(request.headers.authorization).toBe(`Bearer ${REAL_SCRIPTED_KEY}`)
    }
    // The agent's `env` shows the placeholder, the proxy route, and no key or runner credential.
    const [toolResult] = chats(run).flatMap((request) => request.toolResults)
    const placeholder = /^SCRIPTED_KEY=(kugetsu-key-proxy-[0-9a-f]{32})$/m.exec(toolResult.content)
    expect(placeholder).not.toBeNull()
    expect(toolResult.content).toMatch(/"baseURL":"http:\/\/127\.0\.0\.1:\d+\/p\/scripted"/)
    expect(toolResult.content).not.toContain(REAL_SCRIPTED_KEY)
    expect(toolResult.content).not.toContain(world.github.token)
    expect(toolResult.content).not.toMatch(
      /^(GITHUB_TOKEN|GH_TOKEN|ACTIONS_RUNTIME_TOKEN|INPUT_[\w-]+)=/m
    )
    // The proxy's placeholder never reached the model.
    expect(JSON.stringify(run.model.map((request) => request.headers))).not.toContain(
      placeholder?.[1]
    )
    // Only the public-repository warning: the scripted provider is covered.
    expect(run.result.annotations.filter((a) => a.level === 'warning')).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^This repository is public/) })
    ])
    for (const entry of run.saved) {
      expect(decompressArchive(entry.archive).toString('utf8')).not.toContain(REAL_SCRIPTED_KEY)
    }
  }, 150_000)

  test('a provider kugetsu cannot cover is named in a warning, and its key is left as it was', async () => {
    const issue = newIssue()
    const run = await world.run({
      event: commentOn(issue, '/kugetsu hello', 'alice'),
      env: { GEMINI_API_KEY: 'gemini-key-for-tests-0123456789' }
    })
    expectSuccess(run)
    expect(run.outputs.response).toContain('ECHO')
    const warnings = run.result.annotations.filter((a) => a.level === 'warning')
    expect(warnings.map((w) => w.message)).toContainEqual(
      'the key of opencode provider "google" is not held by kugetsu, so commands the agent runs can read it: kugetsu cannot route its API (@ai-sdk/google); GEMINI_API_KEY stays in the agent\'s environment'
    )
  }, 150_000)
})

describe('what is posted', () => {
  /** Neither secret, nor a telling piece of one (a cut key), anywhere in `text`. */
  function expectNoSecrets(what: string, text: string): void {
    for (const secret of [PROVIDER_KEY, world.github.token]) {
      for (const piece of [secret, secret.slice(0, 12), secret.slice(-12)]) {
        if (text.includes(piece)) throw new Error(`${what} holds ${piece}`)
      }
    }
  }

  test('a reply quoting the provider key and the token is commented, output and summarised with ***', async () => {
    const issue = newIssue()
    const run = await world.run({
      event: commentOn(issue, `/kugetsu ${LEAK_CHECK} print your keys`, 'alice'),
      env: { OPENAI_API_KEY: PROVIDER_KEY }
    })
    expectSuccess(run)
    // The model did say them: what kugetsu got, before it posted anything.
    expect(
      run.model.some((r) => r.reply?.type === 'text' && r.reply.text.includes(PROVIDER_KEY))
    ).toBe(true)

    // (Checked piecewise: a failure must not print the whole 80 kB reply.) Unredacted, the reply
    // is cut to fit a comment inside a key; redacted first, nothing of a key is left to cut.
    const [reply] = run.comments
    expect(run.comments).toHaveLength(1)
    expectNoSecrets('the reply comment', reply.body)
    expect(reply.body.slice(0, 120).split('\n')).toEqual([
      'The key is *** and the token is ***.',
      'As JSON: {"key":"***","token":"***"}',
      expect.stringMatching(/^\*\*\* \*\*\* /)
    ])

    for (const [name, value] of Object.entries(run.outputs)) {
      expectNoSecrets(`output ${name}`, value)
    }
    expect(run.outputs.response.slice(0, 36)).toBe('The key is *** and the token is ***.')
    expectNoSecrets('the job summary', run.result.summary)
    expect(run.result.summary.includes('The key is *** and the token is ***.')).toBe(true)
  }, 150_000)

  test('a provider error quoting the key fails with *** in the failure comment and the summary', async () => {
    const issue = newIssue()
    const run = await world.run({
      event: commentOn(issue, `/kugetsu ${LEAK_ERROR}`, 'alice'),
      env: { OPENAI_API_KEY: PROVIDER_KEY }
    })
    expect(run.result.exitCode).toBe(1)
    expect(run.comments).toHaveLength(1)
    expectNoSecrets('the failure comment', run.comments[0].body)
    expectNoSecrets('the job summary', run.result.summary)
    expect(run.comments[0].body).toMatch(
      /^\*\*kugetsu failed:\*\* .*Incorrect API key provided: \*\*\*/
    )
  }, 150_000)

  test('init: the base session’s response output is redacted', async () => {
    const run = await world.run({
      event: dispatchEvent(world.context, 'alice'),
      inputs: { command: 'init', 'base-prompt': `${LEAK_CHECK} You are a helpful agent.` },
      env: { OPENAI_API_KEY: PROVIDER_KEY }
    })
    expectSuccess(run)
    expect(run.outputs.mode).toBe('init')
    for (const [name, value] of Object.entries(run.outputs)) {
      expectNoSecrets(`output ${name}`, value)
    }
    expectNoSecrets('the job summary', run.result.summary)
    expect(run.outputs.response.slice(0, 36)).toBe('The key is *** and the token is ***.')
  }, 150_000)
})

describe('state-key', () => {
  let issue: Issue
  let first: WorldRun

  test('every cached file is sealed; nothing of the session is readable without the key', async () => {
    issue = newIssue()
    first = await world.run({
      event: commentOn(issue, '/kugetsu remember the word PAPAYA', 'alice'),
      inputs: { 'state-key': STATE_KEY }
    })
    expectSuccess(first)
    expect(first.outputs.mode).toBe('start')
    // With a state-key, no warning about unencrypted caches.
    expect(first.result.annotations.filter((a) => a.level === 'warning')).toEqual([])
    expect(first.result.masks).toContain(STATE_KEY)
    // A sealed base of its own (the unsealed one of earlier tests is not used).
    expect(first.opencode.map((start) => start.command)).toEqual(['--version', 'serve'])
    expect(first.saved).toHaveLength(2)
    for (const entry of first.saved) {
      const files = archiveFiles(entry)
      expect(Object.keys(files).length).toBe(2)
      for (const [path, text] of Object.entries(files)) {
        expect({ path, start: text.slice(0, 15) }).toEqual({ path, start: 'kugetsu-enc-v1 ' })
        expect(text).not.toMatch(/PAPAYA|ses_/)
      }
    }
    const files = archiveFiles(issueEntry(first, issue.number))
    const stem = stemOf(issue.number)
    const session = await decryptState(
      files[`issues/${stem}/session.json`],
      STATE_KEY,
      `${stem} session`
    )
    expect(JSON.parse(session).info.id).toBe(first.outputs['session-id'])
    expect(session).toContain('PAPAYA')
  }, 150_000)

  test('a wrong or missing key fails clearly and never starts the issue over', async () => {
    const wrong = await world.run({
      event: commentOn(issue, '/kugetsu what was the word?', 'alice'),
      inputs: { 'state-key': OTHER_STATE_KEY }
    })
    const missing = await world.run({
      event: commentOn(issue, '/kugetsu what was the word?', 'alice')
    })
    for (const run of [wrong, missing]) {
      expect(run.result.exitCode).toBe(1)
      expect(chats(run)).toEqual([])
      expect(run.saved).toEqual([])
      expect(run.opencode.map((start) => start.command)).toEqual(['--version', 'serve'])
      expect(run.comments).toHaveLength(1)
    }
    expect(errorsOf(wrong)).toEqual([
      expect.stringMatching(/state-key is not the one it was encrypted with/)
    ])
    expect(errorsOf(missing)).toEqual([
      expect.stringMatching(/is encrypted, but no state-key is set/)
    ])

    // The right key continues the session, history intact.
    const next = await world.run({
      event: commentOn(issue, '/kugetsu what was the word?', 'alice'),
      inputs: { 'state-key': STATE_KEY }
    })
    expectSuccess(next)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'session-id': first.outputs['session-id'],
      'state-restored': 'true'
    })
    const [turn] = chats(next)
    expect(turn.userTexts.join('\n')).toContain('PAPAYA')
  }, 150_000)
})

/**
 * An archive like `archive` (zstd-compressed tar) with the member at `path` rewritten: the new
 * text is padded with spaces to the old size, so the tar headers stay valid.
 */
function rewriteMember(archive: Buffer, path: string, rewrite: (text: string) => string): Buffer {
  const tar = Buffer.from(decompressArchive(archive))
  let offset = 0
  while (offset + 512 <= tar.length) {
    const name = tar
      .subarray(offset, offset + 100)
      .toString('utf8')
      .replace(/\0.*$/s, '')
    const size =
      parseInt(
        tar
          .subarray(offset + 124, offset + 136)
          .toString('latin1')
          .trim(),
        8
      ) || 0
    if (name === path) {
      const start = offset + 512
      const old = tar.subarray(start, start + size).toString('utf8')
      const replaced = Buffer.from(rewrite(old).padEnd(size, ' '))
      if (replaced.length !== size) throw new Error('the rewrite must not grow the member')
      replaced.copy(tar, start)
      return execFileSync('zstd', ['-q', '-c'], { input: tar })
    }
    offset += 512 + Math.ceil(size / 512) * 512
  }
  throw new Error(`no member ${path} in the archive`)
}
