/**
 * The driver against a fake `opencode` (a small node script), so every branch runs in
 * milliseconds: argv, env, stdin, classification of failures, process-tree kill, export/import.
 * The real binary is exercised in opencode-driver.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { readFileSync, watch } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isKugetsuError } from '../src/errors.js'
import { createOpencodeDriver, OpencodeRunError, runArgs } from '../src/opencode/driver.js'
import { liveGroupMembers } from '../src/opencode/process.js'
import type { OpencodeDriver } from '../src/opencode/types.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'opencode')

/**
 * The fake opencode. It records argv, cwd, env and stdin in $FAKE_LOG, then behaves as $FAKE_MODE
 * says: print a fixture ($FAKE_STDOUT / $FAKE_STDERR files) and exit with $FAKE_EXIT, or hang.
 */
const FAKE = `#!/usr/bin/env node
const fs = require('node:fs')
const { spawn } = require('node:child_process')
const env = process.env
let stdin = ''
try { stdin = fs.readFileSync(0, 'utf8') } catch (e) { stdin = 'ERR ' + e.code }
fs.writeFileSync(env.FAKE_LOG, JSON.stringify({
  argv: process.argv.slice(2), cwd: process.cwd(), pwd: env.PWD, stdin,
  config: env.OPENCODE_CONFIG_CONTENT, pid: process.pid
}))
if (process.argv[2] === 'import') {
  fs.copyFileSync(process.argv[3], env.FAKE_LOG + '.imported')
}
if (env.FAKE_HISTORY) fs.appendFileSync(env.FAKE_HISTORY, JSON.stringify(process.argv.slice(2)) + '\\n')
const stdout = (process.argv[2] === 'export' && env.FAKE_STDOUT_EXPORT) || (process.argv[2] === 'db' && env.FAKE_STDOUT_DB) || env.FAKE_STDOUT
if (stdout) process.stdout.write(fs.readFileSync(stdout))
if (env.FAKE_STDERR) process.stderr.write(fs.readFileSync(env.FAKE_STDERR))
if (env.FAKE_MODE === 'hang') {
  // like opencode's bash tool: a command in a session of its own
  if (env.FAKE_IGNORE_TERM) process.on('SIGTERM', () => fs.writeFileSync(env.FAKE_LOG + '.term', 'x'))
  const child = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' })
  child.unref()
  fs.writeFileSync(env.FAKE_LOG + '.child', String(child.pid))
  setInterval(() => {}, 1000)
} else {
  process.exitCode = Number(env.FAKE_EXIT || 0)
}
`

let dir: string
let fake: string
let log: string

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kugetsu-driver-unit-'))
  fake = path.join(dir, 'opencode')
  log = path.join(dir, 'log.json')
  await writeFile(fake, FAKE)
  await chmod(fake, 0o755)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function driver(env: Record<string, string> = {}, extra: { killGraceMs?: number } = {}) {
  return createOpencodeDriver({
    binary: fake,
    env: { PATH: process.env.PATH, FAKE_LOG: log, ...env },
    configContent: '{"permission":{"question":"deny"}}',
    ...extra
  })
}

const fixture = (name: string) => path.join(fixtures, name)

async function logged(): Promise<{
  argv: string[]
  cwd: string
  pwd: string
  stdin: string
  config: string
  pid: number
}> {
  return JSON.parse(await readFile(log, 'utf8'))
}

async function failure(promise: Promise<unknown>): Promise<OpencodeRunError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof OpencodeRunError) return error
    throw error
  }
  throw new Error('expected a failure')
}

/** Resolves with the file's text once it exists, or undefined if `until` settles first. */
function waitForFile(file: string, until: Promise<unknown>): Promise<string | undefined> {
  // event-driven: watch the directory instead of polling on a timer
  return new Promise((resolve) => {
    const read = () => {
      try {
        return readFileSync(file, 'utf8') || undefined
      } catch {
        return undefined
      }
    }
    const done = (text: string | undefined) => {
      watcher.close()
      resolve(text)
    }
    const watcher = watch(path.dirname(file), () => {
      const text = read()
      if (text) done(text)
    })
    void until.finally(() => done(read()))
    const now = read()
    if (now) done(now)
  })
}

describe('argv', () => {
  it('keeps the message out of argv (it goes on stdin)', () => {
    expect(
      runArgs({
        message: 'hi there',
        cwd: '/',
        sessionId: 'ses_1',
        fork: true,
        model: 'a/b',
        agent: 'build',
        title: '-t'
      })
    ).toEqual([
      'run',
      '--format',
      'json',
      '--session=ses_1',
      '--fork',
      '--model=a/b',
      '--agent=build',
      '--title=-t'
    ])
  })

  it('runs in the cwd with PWD set, the message on stdin, and the config in OPENCODE_CONFIG_CONTENT', async () => {
    const result = await driver({ FAKE_STDOUT: fixture('run-text-turn.jsonl') }).run({
      message: '-x "y"',
      cwd: dir
    })
    const seen = await logged()
    expect(seen.argv).toEqual(['run', '--format', 'json'])
    expect(seen.cwd).toBe(dir)
    expect(seen.pwd).toBe(dir)
    expect(seen.stdin).toBe('-x "y"')
    expect(JSON.parse(seen.config)).toEqual({ permission: { question: 'deny' } })
    expect(result.text).toBe('ECHO[n=1]: hello there')
    expect(result.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('rejects what opencode could not take', async () => {
    const d = driver()
    for (const request of [
      { message: '  ', cwd: dir },
      { message: 'a\0b', cwd: dir },
      { message: 'x', cwd: dir, fork: true },
      { message: 'x', cwd: dir, sessionId: '--evil' }
    ]) {
      await expect(d.run(request)).rejects.toMatchObject({ code: 'invalid-input' })
    }
    await expect(d.exportSession('-x', dir)).rejects.toMatchObject({ code: 'invalid-input' })
    await expect(d.importSession('nope', dir)).rejects.toMatchObject({ code: 'invalid-input' })
    await expect(d.importSession('{"info":{}}', dir)).rejects.toMatchObject({
      code: 'invalid-input'
    })
  })
})

describe('classification', () => {
  it('binary-missing when the binary does not exist or cannot run', async () => {
    const missing = createOpencodeDriver({ binary: path.join(dir, 'nope'), env: {} })
    const error = await failure(missing.run({ message: 'x', cwd: dir }))
    expect(error.code).toBe('binary-missing')
    expect(error.message).toMatch(/not found/)
    const plain = path.join(dir, 'not-executable')
    await writeFile(plain, 'x')
    const notExecutable = createOpencodeDriver({ binary: plain, env: {} })
    expect((await failure(notExecutable.exportSession('ses_1', dir))).code).toBe('binary-missing')
  })

  it('unknown-session from the real stderr', async () => {
    const d = driver({ FAKE_STDERR: fixture('run-unknown-session.stderr.txt'), FAKE_EXIT: '1' })
    const error = await failure(d.run({ message: 'x', cwd: dir, sessionId: 'ses_gone' }))
    expect(error.code).toBe('unknown-session')
    expect(error.message).toBe('opencode has no session ses_gone')
    expect(error.stderr).toBe('Error: Session not found\n')
    const exported = driver({ FAKE_STDERR: fixture('export-unknown.stderr.txt'), FAKE_EXIT: '1' })
    expect((await failure(exported.exportSession('ses_doesnotexist', dir))).code).toBe(
      'unknown-session'
    )
  })

  it('provider-error from error events, with the partial result attached', async () => {
    const d = driver({ FAKE_STDOUT: fixture('run-error-401.jsonl'), FAKE_EXIT: '1' })
    const error = await failure(d.run({ message: 'x', cwd: dir }))
    expect(error.code).toBe('provider-error')
    expect(error.message).toBe(
      'model provider error: APIError: Incorrect API key provided (HTTP 401)'
    )
    expect(error.result?.sessionId).toMatch(/^ses_/)
    expect(error.exitCode).toBe(1)
  })

  it('opencode-failed for opencode’s own errors and other exits', async () => {
    const unknown = driver({ FAKE_STDOUT: fixture('run-unknown-model.jsonl'), FAKE_EXIT: '1' })
    const error = await failure(unknown.run({ message: 'x', cwd: dir, model: 'nope/none' }))
    expect(error.code).toBe('opencode-failed')
    expect(error.message).toMatch(/UnknownError: Unexpected server error/)

    const stderr = path.join(dir, 'stderr.txt')
    await writeFile(stderr, 'some noise\n\u001b[91mError: \u001b[0mit broke\n\n')
    const broken = driver({ FAKE_STDERR: stderr, FAKE_EXIT: '3' })
    const exit = await failure(broken.run({ message: 'x', cwd: dir }))
    expect(exit.code).toBe('opencode-failed')
    expect(exit.message).toBe('opencode run exited with code 3: Error: it broke')
    expect(exit.exitCode).toBe(3)

    const silent = driver()
    const none = await failure(silent.run({ message: 'x', cwd: dir }))
    expect(none.code).toBe('opencode-failed')
    expect(none.message).toBe('opencode run reported no session')
  })

  it('permission-rejected only when a rejection ended the turn without text', async () => {
    const stopped = driver({ FAKE_STDOUT: fixture('run-ask-rejected.jsonl') })
    const error = await failure(stopped.run({ message: 'x', cwd: dir }))
    expect(error.code).toBe('permission-rejected')
    expect(error.message).toMatch(
      /^opencode stopped on a rejected permission: read .*\.env: rejected$/
    )
    expect(error.result?.permissionRejections).toHaveLength(1)

    const fine = driver({ FAKE_STDOUT: fixture('run-tool-turn.jsonl') })
    const result = await fine.run({ message: 'x', cwd: dir })
    expect(result.text).toBe('All done.\nTwo lines.')
    expect(result.permissionRejections).toEqual(['read /etc/hostname: denied by permission rules'])
  })
})

describe('killing', () => {
  it('times out: kills opencode’s group and the groups of what it started', async () => {
    let pid = 0
    const d = driver({ FAKE_MODE: 'hang', FAKE_STDOUT: fixture('run-text-turn.jsonl') })
    const error = await failure(
      d.run({ message: 'x', cwd: dir, timeoutMs: 2000, onSpawn: (spawned) => (pid = spawned) })
    )
    expect(error.code).toBe('timeout')
    expect(error.message).toBe('opencode run timed out after 2000 ms')
    expect(error.result?.sessionId).toMatch(/^ses_/) // what it printed before hanging
    expect(error.exitSignal).toBe('SIGTERM')
    expect(pid).toBeGreaterThan(0)
    expect(await liveGroupMembers(pid)).toEqual([])
    const child = Number(await readFile(`${log}.child`, 'utf8'))
    expect(await liveGroupMembers(child)).toEqual([])
  })

  it('aborts through the signal; SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const controller = new AbortController()
    const d = driver({ FAKE_MODE: 'hang', FAKE_IGNORE_TERM: '1' }, { killGraceMs: 200 })
    await rm(`${log}.child`, { force: true })
    const running = failure(
      d.run({ message: 'x', cwd: dir, signal: controller.signal, timeoutMs: 60_000 })
    )
    expect(await waitForFile(`${log}.child`, running)).toMatch(/^\d+$/)
    controller.abort(new Error('job cancelled'))
    const error = await running
    expect(error.code).toBe('timeout')
    expect(error.aborted).toBe(true)
    expect(error.message).toBe('opencode run was aborted: job cancelled')
    expect(error.exitSignal).toBe('SIGKILL')
    expect(await readFile(`${log}.term`, 'utf8')).toBe('x')
    expect(await liveGroupMembers(Number(await readFile(`${log}.child`, 'utf8')))).toEqual([])
  })

  it('does not start when already aborted', async () => {
    const error = await failure(
      driver().run({ message: 'x', cwd: dir, signal: AbortSignal.abort() })
    )
    expect(error.code).toBe('timeout')
    expect(error.aborted).toBe(true)
  })
})

describe('running a session only in the directory it records', () => {
  const exported = fixture('export.json')
  const id = JSON.parse(readFileSync(exported, 'utf8')).info.id as string

  async function setup(name: string, recorded: unknown[]) {
    const history = path.join(dir, `${name}.jsonl`)
    const db = path.join(dir, `${name}-db.json`)
    await rm(history, { force: true })
    await writeFile(db, JSON.stringify(recorded))
    const d = driver({
      FAKE_HISTORY: history,
      FAKE_STDOUT: fixture('run-text-turn.jsonl'),
      FAKE_STDOUT_EXPORT: exported,
      FAKE_STDOUT_DB: db
    })
    const calls = async () =>
      (await readFile(history, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[])
    return { d, calls }
  }

  it('moves a session recorded elsewhere here before running it, once', async () => {
    const { d, calls } = await setup('moved', [{ directory: '/somewhere/else' }])
    await d.run({ message: 'fork it', cwd: dir, sessionId: id, fork: true })
    const first = await calls()
    expect(first.map((argv) => argv[0])).toEqual(['db', 'export', 'import', 'run'])
    expect(first[0]).toEqual([
      'db',
      '--format',
      'json',
      `select directory from session where id = '${id}'`
    ])
    expect(first[3]).toContain('--fork')
    expect(JSON.parse(await readFile(`${log}.imported`, 'utf8')).info.directory).toBe(dir)

    // known now: further runs here go straight to opencode run
    await d.run({ message: 'again', cwd: dir, sessionId: id, fork: true })
    await d.run({ message: 'continue', cwd: dir, sessionId: id })
    expect((await calls()).map((argv) => argv[0])).toEqual([
      'db',
      'export',
      'import',
      'run',
      'run',
      'run'
    ])

    // a session the driver created here (the fixture's session id) is known too
    const created = await d.run({ message: 'new', cwd: path.join(dir, '.') })
    await d.run({ message: 'fork new', cwd: dir, sessionId: created.sessionId, fork: true })
    expect((await calls()).slice(6).map((argv) => argv[0])).toEqual(['run', 'run'])
  })

  it('leaves a session that records the cwd where it is', async () => {
    const { d, calls } = await setup('here', [{ directory: dir }])
    await d.run({ message: 'continue', cwd: dir, sessionId: id })
    expect((await calls()).map((argv) => argv[0])).toEqual(['db', 'run'])
  })

  it('knows an unknown session from the database, without a run', async () => {
    const { d, calls } = await setup('unknown', [])
    const error = await failure(d.run({ message: 'x', cwd: dir, sessionId: 'ses_gone' }))
    expect(error.code).toBe('unknown-session')
    expect((await calls()).map((argv) => argv[0])).toEqual(['db'])
  })
})

describe('export, import, delete', () => {
  it('exports the JSON, without chatter before it, checking the session id', async () => {
    const exported = fixture('export.json')
    const id = JSON.parse(readFileSync(exported, 'utf8')).info.id as string
    const noisy = path.join(dir, 'noisy-export.txt')
    await writeFile(noisy, `Exporting session: ${id}\n${readFileSync(exported, 'utf8')}`)
    const text = await driver({ FAKE_STDOUT: noisy }).exportSession(id, dir)
    expect(JSON.parse(text).info.id).toBe(id)
    expect(text.startsWith('{')).toBe(true)
    expect((await logged()).argv).toEqual(['export', id])

    const wrong = await failure(driver({ FAKE_STDOUT: exported }).exportSession('ses_other', dir))
    expect(wrong.code).toBe('opencode-failed')
    const empty = await failure(driver().exportSession('ses_other', dir))
    expect(empty.message).toBe('opencode export printed no JSON for ses_other')
  })

  it('imports through a temporary file that is removed afterwards', async () => {
    const text = readFileSync(fixture('export.json'), 'utf8')
    await driver().importSession(text, dir)
    const seen = await logged()
    expect(seen.argv[0]).toBe('import')
    // the session is re-homed: its directory becomes the cwd it was imported at
    const imported = JSON.parse(await readFile(`${log}.imported`, 'utf8'))
    const original = JSON.parse(text)
    expect(imported.info.directory).toBe(dir)
    expect(original.info.directory).not.toBe(dir)
    expect({ ...imported, info: { ...imported.info, directory: original.info.directory } }).toEqual(
      original
    )
    await expect(readFile(seen.argv[1])).rejects.toThrow()
    const failed = await failure(
      driver({
        FAKE_EXIT: '1',
        FAKE_STDERR: fixture('run-unknown-session.stderr.txt')
      }).importSession(text, dir)
    )
    expect(failed.code).toBe('opencode-failed')
    expect(failed.message).toBe('opencode import exited with code 1: Error: Session not found')
  })

  it('deletes, and a session already gone is fine', async () => {
    const d = driver() as Required<OpencodeDriver>
    await d.deleteSession('ses_1', dir)
    expect((await logged()).argv).toEqual(['session', 'delete', 'ses_1'])
    const gone = driver({ FAKE_EXIT: '1', FAKE_STDERR: fixture('export-unknown.stderr.txt') })
    await (gone as Required<OpencodeDriver>).deleteSession('ses_1', dir)
    const broken = driver({ FAKE_EXIT: '2' }) as Required<OpencodeDriver>
    const error = await failure(broken.deleteSession('ses_1', dir))
    expect(isKugetsuError(error, 'opencode-failed')).toBe(true)
  })
})
