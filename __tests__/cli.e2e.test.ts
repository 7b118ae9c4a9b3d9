/**
 * The bundled `kugetsu` CLI (dist/cli/index.js) end to end: the real opencode binary against the
 * scripted model server, a private opencode data dir, a private state dir.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { startModelServer, type ModelServer } from './support/model-server.js'
import { createOpencodeEnv, type OpencodeEnv } from './support/opencode-env.js'

const CLI = resolve('dist/cli/index.js')
const OPENCODE_BIN = resolve('node_modules/.bin')

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

let model: ModelServer
let machine: OpencodeEnv
let project: string
let stateDir: string

function kugetsu(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: project,
      env: {
        ...machine.env,
        PATH: `${OPENCODE_BIN}:${machine.env.PATH ?? ''}`,
        KUGETSU_STATE_DIR: stateDir,
        ...extraEnv
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

async function json<T>(args: string[]): Promise<T> {
  const result = await kugetsu(['--json', ...args])
  if (result.code !== 0) throw new Error(`kugetsu ${args.join(' ')} failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

interface TurnJson {
  mode: string
  ref: string
  sessionId: string
  baseSessionId: string
  turns: number
  response: string
}

const userMessages = () => model.chatRequests().map((request) => request.userTexts.join(' | '))

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli/index.js is missing: run npm run package')
  model = await startModelServer()
  machine = await createOpencodeEnv({ baseURL: model.baseURL })
  project = await machine.makeProject('checkout')
  stateDir = join(machine.root, 'kugetsu-state')
})

afterAll(async () => {
  await model?.close()
  await machine?.cleanup()
})

describe('kugetsu CLI', () => {
  let first: TurnJson

  it('refuses bad input with one line on stderr, before touching anything', async () => {
    const cases: [string[], RegExp][] = [
      [['start', '../../etc#1', 'hi'], /invalid|not a valid|issue ref/i],
      [['start', 'owner/repo#abc', 'hi'], /issue ref|invalid|not a valid/i],
      [['start', 'owner/repo#0', 'hi'], /issue ref|invalid|not a valid/i],
      [['start', 'owner/repo#1', '   '], /message is empty/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['list', '--bogus'], /bogus/],
      [['destroy', 'owner/repo#1'], /pass -y/]
    ]
    for (const [args, pattern] of cases) {
      const result = await kugetsu(args)
      expect(result.code).toBe(2)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).toMatch(pattern)
    }
    expect(model.requests).toHaveLength(0)
    expect(existsSync(stateDir)).toBe(false)
    // several CLI starts: a loaded machine needs more than jest's default 5 s
  }, 60_000)

  it('--help lists every command', async () => {
    const result = await kugetsu(['--help'])
    expect(result.code).toBe(0)
    for (const command of ['init', 'start', 'continue', 'run', 'list', 'prune', 'destroy']) {
      expect(result.stdout).toContain(`kugetsu ${command}`)
    }
  })

  it('start before init says to run init', async () => {
    const result = await kugetsu(['start', 'shoko/kugetsu#1', 'hello'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/run init first/)
  })

  it('init creates the base headlessly', async () => {
    const result = await json<{ base: { sessionId: string } }>([
      'init',
      '--base-prompt',
      'You are the base.'
    ])
    expect(result.base.sessionId).toMatch(/^ses_/)
    expect(userMessages()).toEqual(['You are the base.'])
    const again = await kugetsu(['init'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already exists/)
  }, 120_000)

  it('start forks the base for an issue; the message arrives exactly as typed', async () => {
    const message = `--looks like a flag "quoted" 'single' $HOME`
    first = await json<TurnJson>(['start', 'github.com/shoko/kugetsu#14', '--', message])
    expect(first).toMatchObject({ mode: 'start', ref: 'github.com/shoko/kugetsu#14', turns: 1 })
    expect(first.sessionId).not.toBe(first.baseSessionId)
    expect(first.response).toContain(`You are the base. | ${message}`)
  }, 120_000)

  it('continue keeps the whole history', async () => {
    const second = await json<TurnJson>(['continue', 'shoko/kugetsu#14', 'second message'])
    expect(second).toMatchObject({ mode: 'continue', sessionId: first.sessionId, turns: 2 })
    expect(second.response).toMatch(/You are the base\. \| --looks like a flag.* \| second message/)
  }, 120_000)

  it('two issues never see each other’s messages', async () => {
    const other = await json<TurnJson>(['run', 'shoko/kugetsu#15', 'only for fifteen'])
    expect(other.mode).toBe('start')
    expect(other.response).toContain('ECHO[n=2]: You are the base. | only for fifteen')
    const back = await json<TurnJson>(['run', 'shoko/kugetsu#14', 'third'])
    expect(back.mode).toBe('continue')
    expect(back.response).not.toContain('fifteen')
    expect(back.turns).toBe(3)
  }, 180_000)

  it('a model error leaves the previous state intact', async () => {
    const index = await readFile(join(stateDir, 'index.json'), 'utf8')
    model.setScript(() => ({
      type: 'error',
      status: 500,
      message: 'the model is on fire',
      headers: { 'retry-after-ms': '0' }
    }))
    const failed = await kugetsu(['continue', 'shoko/kugetsu#14', 'doomed'])
    model.setScript(undefined)
    expect(failed.code).toBe(1)
    expect(failed.stderr.trim().split('\n')).toHaveLength(1)
    expect(failed.stderr).toMatch(/model is on fire/)
    const after = JSON.parse(await readFile(join(stateDir, 'index.json'), 'utf8'))
    const before = JSON.parse(index)
    const { lastError, ...rest } = after.issues['github.com/shoko/kugetsu#14']
    expect(rest).toEqual(before.issues['github.com/shoko/kugetsu#14'])
    expect(lastError).toMatch(/fire/)
  }, 120_000)

  it('a killed run (timeout) leaves the previous state intact, and the next turn continues', async () => {
    model.setScript(() => ({ type: 'hang' }))
    const killed = await kugetsu(['continue', 'shoko/kugetsu#14', 'hangs', '--timeout', '3'])
    model.setScript(undefined)
    expect(killed.code).toBe(1)
    expect(killed.stderr).toMatch(/timed out|timeout/i)
    const next = await json<TurnJson>(['continue', 'shoko/kugetsu#14', 'after the kill'])
    expect(next.turns).toBe(4)
    // Neither failed turn's message stays in the session.
    expect(next.response).toMatch(/second message \| third \| after the kill$/m)
  }, 180_000)

  it('list shows every tracked issue', async () => {
    const listed = await json<{
      base: { sessionId: string }
      issues: { ref: string; turns: number }[]
    }>(['list'])
    expect(listed.base.sessionId).toBe(first.baseSessionId)
    expect(listed.issues.map((issue) => [issue.ref, issue.turns])).toEqual([
      ['github.com/shoko/kugetsu#14', 4],
      ['github.com/shoko/kugetsu#15', 1]
    ])
    const text = await kugetsu(['list'])
    expect(text.stdout).toContain('github.com/shoko/kugetsu#14')
  })

  it('prune drops a record whose export is unreadable, and orphan files', async () => {
    const issues = join(stateDir, 'issues')
    const file15 = (await readdir(issues)).find((name) => name.includes('~15'))!
    await writeFile(join(issues, file15), '{ truncated')
    await writeFile(join(issues, 'github.com~shoko~kugetsu~99.abcdef012345.json'), '{}')
    const dry = await kugetsu(['prune', '--dry-run'])
    expect(dry.stdout).toMatch(/would remove github.com\/shoko\/kugetsu#15/)
    const pruned = await json<{ removed: { ref: string }[]; orphanFiles: string[] }>(['prune'])
    expect(pruned.removed.map((entry) => entry.ref)).toEqual(['github.com/shoko/kugetsu#15'])
    expect(pruned.orphanFiles.length).toBeGreaterThan(0)
    const listed = await json<{ issues: { ref: string }[] }>(['list'])
    expect(listed.issues.map((issue) => issue.ref)).toEqual(['github.com/shoko/kugetsu#14'])
  })

  it('destroy forgets an issue and the base', async () => {
    const destroyed = await kugetsu(['destroy', 'shoko/kugetsu#14', '-y'])
    expect(destroyed.code).toBe(0)
    const missing = await kugetsu(['continue', 'shoko/kugetsu#14', 'hello?'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no session yet|not tracked/)
    expect((await kugetsu(['destroy', '--base', '-y'])).code).toBe(0)
    const listed = await json<{ base: null; issues: unknown[] }>(['list'])
    expect(listed).toEqual({ base: null, issues: [] })
  }, 120_000)

  it('short refs resolve against --repo', async () => {
    const bad = await kugetsu(['destroy', '#14', '-y'], { KUGETSU_REPO: '' })
    expect(bad.code).toBe(2)
    const viaRepo = await kugetsu(['destroy', '#14', '-y', '--repo', 'github.com/shoko/kugetsu'])
    expect(viaRepo.stderr).toMatch(/github.com\/shoko\/kugetsu#14 is not tracked/)
  })
})

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true }).catch(() => undefined)
})
