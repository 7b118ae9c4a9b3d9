/**
 * Both drivers with the real opencode binary (the `opencode-ai` devDependency), offline against
 * the scripted model server: one opencode process per command (driver.ts), and one `opencode serve`
 * driven over HTTP (serve.ts). The same behaviour is asked of both. Each `opencode run` takes ~6-8 s
 * here; tests in this file run serially.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createOpencodeDriver, OpencodeRunError } from '../src/opencode/driver.js'
import { createServeDriver } from '../src/opencode/serve.js'
import { liveGroupMembers } from '../src/opencode/process.js'
import type { OpencodeDriver, RunRequest, RunResult } from '../src/opencode/types.js'
import { startModelServer, type ModelServer, type RecordedRequest } from './support/model-server.js'
import { createOpencodeEnv, type OpencodeEnv } from './support/opencode-env.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const binary = path.join(repoRoot, 'node_modules', '.bin', 'opencode')
const TEST_TIMEOUT = 180_000
const execFileAsync = promisify(execFile)

let server: ModelServer
let machine: OpencodeEnv
let project: string
let driver: Required<OpencodeDriver>
/** The session created by the first test, continued and forked by later ones. */
let base: string

/** A driver for `env`, working in `cwd`; `close` stops what it started. */
type DriverFactory = (
  env: NodeJS.ProcessEnv,
  cwd: string
) => Required<OpencodeDriver> & { close?: () => Promise<void> }

// a run that hangs must not outlive its test
const DRIVERS: [string, DriverFactory][] = [
  [
    'one opencode process per command',
    (env) => createOpencodeDriver({ binary, env, defaultTimeoutMs: 150_000 })
  ],
  [
    'one opencode serve',
    (env, cwd) => createServeDriver({ binary, env, cwd, defaultTimeoutMs: 150_000 })
  ]
]
const opened: { close?: () => Promise<void> }[] = []

beforeAll(async () => {
  server = await startModelServer()
  machine = await createOpencodeEnv({ baseURL: server.baseURL })
  project = await machine.makeProject('repo')
})

afterAll(async () => {
  await Promise.all(opened.map((one) => one.close?.()))
  await server?.close()
  await machine?.cleanup()
})

/** Runs, recording which requests the model server got during the run. */
async function run(
  request: Omit<RunRequest, 'cwd'> & { cwd?: string },
  using: OpencodeDriver = driver
) {
  const before = server.requests.length
  const result = await using.run({ cwd: project, ...request })
  return { result, requests: server.requests.slice(before) }
}

async function failure(promise: Promise<unknown>): Promise<OpencodeRunError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof OpencodeRunError) return error
    throw error
  }
  throw new Error('expected the run to fail')
}

/** Live processes whose command line contains `text` (Linux /proc). */
async function processesRunning(text: string): Promise<number[]> {
  const found: number[] = []
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ')
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (cmdline.includes(text) && state !== 'Z') found.push(Number(entry))
    } catch {
      // gone
    }
  }
  return found
}

async function git(cwd: string, ...args: string[]): Promise<void> {
  await execFileAsync('git', args, { cwd })
}

/** An opencode that logs the command of every start (its first argument). */
async function recordingShim(
  on: OpencodeEnv
): Promise<{ path: string; starts: () => Promise<string[]> }> {
  const dir = await on.makeProject('shim')
  const log = path.join(dir, 'starts.log')
  const shim = path.join(dir, 'opencode')
  await writeFile(shim, `#!/bin/sh\necho "$1" >> '${log}'\nexec '${binary}' "$@"\n`, {
    mode: 0o755
  })
  const starts = async () =>
    (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean)
  return { path: shim, starts }
}

const chats = (requests: RecordedRequest[]) => requests.filter((r) => r.kind === 'chat')

/** A request the model server got since the current test began (both drivers share it). */
let firstOfTest = 0
const isNew = (request: RecordedRequest) => server.requests.indexOf(request) >= firstOfTest
beforeEach(() => {
  firstOfTest = server.requests.length
})

describe.each(DRIVERS)('opencode driver with the real binary: %s', (kind, makeDriver) => {
  const open = (env: NodeJS.ProcessEnv, cwd: string) => {
    const made = makeDriver(env, cwd)
    opened.push(made)
    return made
  }
  beforeAll(() => {
    driver = open(machine.env, project)
  })

  it(
    'creates a session and continues it; the model sees the history; tokens and cost add up',
    async () => {
      const first = await run({ message: 'first message' })
      expect(first.result.sessionId).toMatch(/^ses_/)
      expect(first.result.text).toBe('ECHO[n=1]: first message')
      expect(first.result.tokens.input).toBeGreaterThan(0)
      expect(first.result.tokens.output).toBeGreaterThan(0)
      expect(first.result.cost).toBeGreaterThan(0)
      expect(first.result.errors).toEqual([])
      // a new session gets a title from the model, in a request of its own
      expect(first.requests.map((r) => r.kind).sort()).toEqual(['chat', 'title'])
      const [chat] = chats(first.requests)
      expect(chat.headers['x-session-id']).toBe(first.result.sessionId)
      expect(chat.tools).not.toContain('question')
      base = first.result.sessionId

      const second = await run({ message: 'second message', sessionId: base })
      expect(second.result.sessionId).toBe(base)
      expect(second.result.text).toBe('ECHO[n=2]: first message | second message')
      expect(second.requests.map((r) => r.kind)).toEqual(['chat'])
    },
    TEST_TIMEOUT
  )

  it(
    'forks: the fork sees the history, the original never sees the fork',
    async () => {
      // Numbers, quotes, double spaces, dashes and lines reach the model exactly as written.
      const message = 'fork message 42 "quoted"  -x 0x10 3.5\n--line 2'
      const fork = await run({ message, sessionId: base, fork: true })
      expect(fork.result.sessionId).toMatch(/^ses_/)
      expect(fork.result.sessionId).not.toBe(base)
      expect(fork.result.text).toBe(`ECHO[n=3]: first message | second message | ${message}`)
      // the fork has no session rule denying questions: kugetsu's config must remove the tool
      expect(chats(fork.requests)[0].tools).not.toContain('question')

      const original = await run({ message: 'original again', sessionId: base })
      expect(original.result.sessionId).toBe(base)
      expect(original.result.text).toBe(
        'ECHO[n=3]: first message | second message | original again'
      )
    },
    TEST_TIMEOUT
  )

  it(
    'moves a session to a fresh machine and another checkout: export, import, continue there',
    async () => {
      const exported = await driver.exportSession(base, project)
      const parsed = JSON.parse(exported)
      expect(parsed.info.id).toBe(base)
      expect(parsed.info.directory).toBe(project)

      const elsewhere = await machine.fresh()
      const checkout = await elsewhere.makeProject('checkout-elsewhere')
      const other = open(elsewhere.env, checkout)
      try {
        await other.importSession(exported, checkout)

        server.setScript([
          { type: 'tool', tool: 'bash', input: { command: 'pwd', description: 'Where' } }
        ])
        const moved = await run(
          { message: 'on the new runner', sessionId: base, cwd: checkout },
          other
        )
        expect(moved.result.sessionId).toBe(base)
        expect(moved.result.text).toBe(
          'ECHO[n=4]: first message | second message | original again | on the new runner\n' +
            `TOOL[bash]: ${checkout}`
        )
        expect(moved.result.toolCalls.map((call) => [call.tool, call.status])).toEqual([
          ['bash', 'completed']
        ])
      } finally {
        server.setScript(undefined)
        await other.close?.()
        await elsewhere.cleanup()
      }
    },
    TEST_TIMEOUT
  )

  it(
    'unknown sessions: never existed, or deleted',
    async () => {
      const never = await failure(run({ message: 'hello?', sessionId: 'ses_doesnotexist' }))
      expect(never.code).toBe('unknown-session')
      expect(never.message).toBe('opencode has no session ses_doesnotexist')
      await expect(driver.exportSession('ses_doesnotexist', project)).rejects.toMatchObject({
        code: 'unknown-session'
      })

      const doomed = await run({ message: 'short-lived', title: 'Doomed' })
      // a title given up front spares the model the title request
      expect(doomed.requests.map((r) => r.kind)).toEqual(['chat'])
      await driver.deleteSession(doomed.result.sessionId, project)
      await driver.deleteSession(doomed.result.sessionId, project) // already gone: fine
      const deleted = await failure(
        run({ message: 'still there?', sessionId: doomed.result.sessionId })
      )
      expect(deleted.code).toBe('unknown-session')
    },
    TEST_TIMEOUT
  )

  it(
    'provider errors: a rejected key, and a server that keeps failing',
    async () => {
      server.setScript([{ type: 'error', status: 401, message: 'Incorrect API key provided' }])
      const unauthorized = await failure(run({ message: 'who am i', sessionId: base }))
      expect(unauthorized.code).toBe('provider-error')
      expect(unauthorized.message).toBe(
        'model provider error: APIError: Incorrect API key provided (HTTP 401)'
      )
      expect(unauthorized.result?.sessionId).toBe(base)

      // opencode retries a 5xx five times; retry-after-ms spares the test its back-off (~60 s)
      server.setScript(() => ({
        type: 'error',
        status: 500,
        message: 'upstream exploded',
        headers: { 'retry-after-ms': '0' }
      }))
      const before = server.requests.length
      const broken = await failure(run({ message: 'anyone?', sessionId: base }))
      expect(broken.code).toBe('provider-error')
      expect(broken.message).toBe('model provider error: APIError: upstream exploded (HTTP 500)')
      expect(chats(server.requests.slice(before))).toHaveLength(6)
    },
    TEST_TIMEOUT
  )

  it(
    'a hung model: the run is stopped, opencode’s process group is gone, the request dropped',
    async () => {
      server.setScript([{ type: 'hang' }])
      const controller = new AbortController()
      let pid = 0
      const hung = server.waitForRequest(
        (r) => isNew(r) && r.kind === 'chat' && r.reply?.type === 'hang'
      )
      void hung.then(() => controller.abort())
      const error = await failure(
        driver.run({
          message: 'are you there?',
          sessionId: base,
          cwd: project,
          signal: controller.signal,
          onSpawn: (spawned) => (pid = spawned)
        })
      )
      expect(error.code).toBe('timeout')
      expect(error.aborted).toBe(true)
      // nothing was printed before the model answered, but a continued session is known
      expect(error.result?.sessionId).toBe(base)
      expect(pid).toBeGreaterThan(0)
      expect(await liveGroupMembers(pid)).toEqual([])
      await server.waitForAbort(await hung)
    },
    TEST_TIMEOUT
  )

  it(
    'a hung tool: the command opencode started in its own session dies too',
    async () => {
      const marker = `sleep 7${process.pid % 1000}3`
      server.setScript([
        {
          type: 'tool',
          tool: 'bash',
          input: {
            command: `curl -s ${server.url}/notify/sleeping; ${marker}`,
            description: 'Wait forever'
          }
        }
      ])
      const controller = new AbortController()
      void server
        .waitForRequest((r) => isNew(r) && r.path === '/notify/sleeping')
        .then(() => controller.abort())
      let pid = 0
      const error = await failure(
        driver.run({
          message: 'sleep',
          sessionId: base,
          cwd: project,
          signal: controller.signal,
          onSpawn: (spawned) => (pid = spawned)
        })
      )
      expect(error.code).toBe('timeout')
      expect(error.result?.sessionId).toBe(base) // the step started before the tool hung
      expect(await liveGroupMembers(pid)).toEqual([])
      expect(await processesRunning(marker)).toEqual([])
      server.setScript(undefined)
    },
    TEST_TIMEOUT
  )

  it(
    'passes a message starting with -- and full of quotes exactly; long replies come back whole',
    async () => {
      const message = `--help "double" 'single'  two  spaces\n\ttab line -x `
      const exact = await run({ message, title: 'Exact' })
      expect(chats(exact.requests)[0].userTexts).toEqual([message])
      expect(exact.result.text).toBe(`ECHO[n=1]: ${message}`.trim())

      const long = 'word '.repeat(40_000).trim()
      server.setScript([{ type: 'text', text: long, chunkSize: 4096 }])
      const reply = await run({ message: 'say a lot', sessionId: exact.result.sessionId })
      expect(reply.result.text).toBe(long)
      server.setScript(undefined)
    },
    TEST_TIMEOUT
  )

  it(
    'a fork in a repo that allows questions: a question does not hang, outside reads are denied',
    async () => {
      // the repository's own config tries to allow everything, questions included
      const permissive = await machine.makeProject('permissive-repo')
      await writeFile(
        path.join(permissive, 'opencode.json'),
        JSON.stringify({ permission: { question: 'allow', '*': 'allow' } })
      )
      server.setScript([
        {
          type: 'tool',
          tool: 'question',
          input: {
            questions: [
              {
                question: 'Which one?',
                header: 'Pick',
                options: [{ label: 'A', description: 'a' }]
              }
            ]
          }
        },
        { type: 'tool', tool: 'read', input: { filePath: '/etc/hostname' } }
      ])
      const fork = await run({ message: 'ask me', sessionId: base, fork: true, cwd: permissive })
      const result: RunResult = fork.result
      for (const chat of chats(fork.requests)) expect(chat.tools).not.toContain('question')
      expect(result.toolCalls.map((call) => [call.tool, call.status])).toEqual([
        ['invalid', 'completed'],
        ['read', 'error']
      ])
      expect(result.permissionRejections).toEqual([
        'read /etc/hostname: denied by permission rules'
      ])
      expect(result.text).toMatch(
        /^ECHO\[n=\d+\]: first message \| .* \| ask me\nTOOL\[read\]: The user has specified a rule/
      )
      server.setScript(undefined)
    },
    TEST_TIMEOUT
  )

  it(
    // base now records permissive-repo (the fork above moved it there): it is moved back first,
    // or opencode would never hear of the permission request and hang
    'an "ask" rule stops the turn: permission-rejected, with the session id kept',
    async () => {
      await writeFile(path.join(project, '.env'), 'SECRET=1\n')
      server.setScript([
        { type: 'tool', tool: 'read', input: { filePath: path.join(project, '.env') } }
      ])
      const error = await failure(run({ message: 'read the secrets', sessionId: base }))
      expect(error.code).toBe('permission-rejected')
      expect(error.result?.sessionId).toBe(base)
      expect(error.result?.permissionRejections).toEqual([
        `read ${path.join(project, '.env')}: rejected`
      ])
      if (kind === DRIVERS[0][0]) {
        expect(error.stderr).toMatch(/permission requested: read .*; auto-rejecting/)
      }
      server.setScript(undefined)
    },
    TEST_TIMEOUT
  )
})

describe('opencode serve driver: the server itself', () => {
  it(
    'answers only with its password; dying mid-turn fails the turn; the next turn starts another',
    async () => {
      const serve = createServeDriver({
        binary,
        env: machine.env,
        cwd: project,
        defaultTimeoutMs: 150_000
      })
      opened.push(serve)
      const first = await serve.run({ message: 'hello server', cwd: project, title: 'Server' })
      const url = serve.url()
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      // what the agent's webfetch or another local user would get
      expect((await fetch(`${url}/session`)).status).toBe(401)
      const wrong = `Basic ${Buffer.from('opencode:guess').toString('base64')}`
      expect((await fetch(`${url}/session`, { headers: { authorization: wrong } })).status).toBe(
        401
      )

      let pid = 0
      server.setScript(() => {
        process.kill(pid, 'SIGKILL')
        return { type: 'hang' }
      })
      const error = await failure(
        serve.run({
          message: 'goodbye server',
          sessionId: first.sessionId,
          cwd: project,
          onSpawn: (spawned) => (pid = spawned)
        })
      )
      server.setScript(undefined)
      expect(error.code).toBe('opencode-failed')
      expect(error.message).toMatch(/^opencode serve was killed by SIGKILL/)
      expect(await liveGroupMembers(pid)).toEqual([])

      const again = await serve.run({
        message: 'hello again',
        sessionId: first.sessionId,
        cwd: project
      })
      expect(again.sessionId).toBe(first.sessionId)
      expect(again.text).toMatch(/^ECHO\[n=\d\]: hello server \| .*hello again$/)
      expect(serve.url()).not.toBe(url)
    },
    TEST_TIMEOUT
  )

  it(
    'imports over HTTP as sync events into a clone at another path, with no opencode import process',
    async () => {
      const origin = await machine.makeProject('git-origin')
      await git(origin, 'init', '-q')
      await writeFile(path.join(origin, 'README.md'), 'hello\n')
      await git(origin, 'add', '.')
      await git(
        origin,
        '-c',
        'user.name=k',
        '-c',
        'user.email=k@example.com',
        'commit',
        '-qm',
        'root'
      )
      const serve = createServeDriver({
        binary,
        env: machine.env,
        cwd: origin,
        defaultTimeoutMs: 150_000
      })
      opened.push(serve)
      const first = await serve.run({ message: 'remember 7', cwd: origin, title: 'Git' })
      const exported = await serve.exportSession(first.sessionId, origin)
      await serve.close()

      const elsewhere = await machine.fresh()
      const clone = await elsewhere.makeProject('git-clone')
      await git(clone, 'clone', '-q', origin, '.')
      const shim = await recordingShim(elsewhere)
      const moved = createServeDriver({
        binary: shim.path,
        env: elsewhere.env,
        cwd: clone,
        defaultTimeoutMs: 150_000
      })
      opened.push(moved)
      try {
        await moved.importSession(exported, clone)
        const call = async (route: string, init: RequestInit = {}) => {
          const url = `${moved.url()}${route}?directory=${encodeURIComponent(clone)}`
          const authorization = `Basic ${Buffer.from(`opencode:${moved.secrets()[0]}`).toString('base64')}`
          const response = await fetch(url, {
            ...init,
            headers: { authorization, 'content-type': 'application/json' }
          })
          expect(response.status).toBe(200)
          return response.json()
        }
        // replayed events are recorded; `opencode import` writes rows without any
        const history = (await call('/sync/history', { method: 'POST', body: '{}' })) as {
          aggregate_id: string
          type: string
        }[]
        expect(
          history.filter((event) => event.aggregate_id === first.sessionId).length
        ).toBeGreaterThan(3)
        const project = (await call('/project/current')) as { id: string }
        const listed = (await call('/session')) as {
          id: string
          projectID: string
          directory: string
        }[]
        expect(listed.find((session) => session.id === first.sessionId)).toMatchObject({
          projectID: project.id,
          directory: clone
        })
        expect(project.id).not.toBe('global')

        const again = await moved.run({
          message: 'what was it',
          sessionId: first.sessionId,
          cwd: clone
        })
        expect(again.text).toMatch(/^ECHO\[n=2\]: remember 7 \| what was it$/)
        expect(await shim.starts()).toEqual(['serve'])

        // A session the server already has is refused as events: the CLI import takes over.
        await moved.importSession(exported, clone)
        expect(await shim.starts()).toEqual(['serve', 'import'])
        const last = await moved.run({ message: 'and now', sessionId: first.sessionId, cwd: clone })
        expect(last.text).toMatch(/^ECHO\[n=3\]: remember 7 \| what was it \| and now$/)
      } finally {
        await moved.close()
        await elsewhere.cleanup()
      }
    },
    TEST_TIMEOUT
  )
})
