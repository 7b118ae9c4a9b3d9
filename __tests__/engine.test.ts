import { describe, expect, it, beforeEach, afterEach } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Engine, hashPrompt } from '../src/engine.js'
import { KugetsuError } from '../src/errors.js'
import type { OpencodeDriver, RunRequest, RunResult } from '../src/opencode/types.js'
import { createLocalStore } from '../src/store/local.js'
import type { IssueRecord, StateStore } from '../src/store/types.js'

const REF = 'github.com/shoko/kugetsu#14'

/**
 * An in-memory stand-in for opencode with its own "database": sessions are lists of messages,
 * known only after they were created or imported, like the real data dir.
 */
class FakeOpencode implements OpencodeDriver {
  sessions = new Map<string, string[]>()
  calls: string[] = []
  failNextRun?: KugetsuError
  private counter = 0

  private result(sessionId: string, text: string): RunResult {
    return {
      sessionId,
      text,
      toolCalls: [],
      tokens: { input: 10, output: 5, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
      cost: 0.01,
      errors: [],
      permissionRejections: [],
      durationMs: 1
    }
  }

  async run(request: RunRequest): Promise<RunResult> {
    this.calls.push(`run${request.fork ? ' fork' : ''} ${request.sessionId ?? 'new'}`)
    if (this.failNextRun) {
      const error = this.failNextRun
      this.failNextRun = undefined
      throw error
    }
    let history: string[] = []
    if (request.sessionId) {
      const known = this.sessions.get(request.sessionId)
      if (!known)
        throw new KugetsuError('unknown-session', `session ${request.sessionId} not found`)
      history = [...known]
    }
    const id = request.sessionId && !request.fork ? request.sessionId : `ses_${++this.counter}`
    history.push(request.message)
    this.sessions.set(id, history)
    return this.result(id, `ECHO: ${history.join(' | ')}`)
  }

  async exportSession(sessionId: string): Promise<string> {
    this.calls.push(`export ${sessionId}`)
    const messages = this.sessions.get(sessionId)
    if (!messages) throw new KugetsuError('unknown-session', `session ${sessionId} not found`)
    return JSON.stringify({ info: { id: sessionId }, messages })
  }

  async importSession(sessionExport: string): Promise<void> {
    const parsed = JSON.parse(sessionExport) as { info: { id: string }; messages: string[] }
    this.calls.push(`import ${parsed.info.id}`)
    this.sessions.set(parsed.info.id, parsed.messages)
  }

  async deleteSession(sessionId: string): Promise<void> {
    this.calls.push(`delete ${sessionId}`)
    this.sessions.delete(sessionId)
  }
}

describe('Engine', () => {
  let dir: string
  let store: StateStore
  let opencode: FakeOpencode
  let engine: Engine

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kugetsu-engine-'))
    store = createLocalStore(dir)
    opencode = new FakeOpencode()
    engine = new Engine({ store, driver: opencode, cwd: dir, basePrompt: 'be helpful' })
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('init creates the base once; --force replaces it', async () => {
    const first = await engine.init()
    expect(first.base.promptHash).toBe(hashPrompt('be helpful'))
    expect(await store.readBaseExport()).toContain('be helpful')
    await expect(engine.init()).rejects.toMatchObject({ code: 'base-exists' })
    const second = await engine.init({ force: true })
    expect(second.replaced?.sessionId).toBe(first.base.sessionId)
    expect((await store.getBase())?.sessionId).toBe(second.base.sessionId)
  })

  it('start forks the base, continue keeps the history, run picks whichever applies', async () => {
    const { base } = await engine.init()
    const started = await engine.start(REF, 'first')
    expect(started.mode).toBe('start')
    expect(started.record.sessionId).not.toBe(base.sessionId)
    expect(started.record).toMatchObject({ baseSessionId: base.sessionId, turns: 1 })
    expect(started.result.text).toBe('ECHO: be helpful | first')

    const continued = await engine.continue(REF, 'second')
    expect(continued.record.sessionId).toBe(started.record.sessionId)
    expect(continued.result.text).toBe('ECHO: be helpful | first | second')

    const ran = await engine.run(REF, 'third')
    expect(ran.mode).toBe('continue')
    expect(ran.record.turns).toBe(3)
    const stored = await store.getIssue(REF)
    expect(stored?.pending).toBeUndefined()
    expect(JSON.parse((await store.readIssueExport(REF))!).messages).toHaveLength(4)
    // The base itself never sees an issue's messages.
    expect(opencode.sessions.get(base.sessionId)).toEqual(['be helpful'])
  })

  it('start and continue refuse the wrong state, and an empty message', async () => {
    await engine.init()
    await expect(engine.continue(REF, 'hi')).rejects.toMatchObject({ code: 'not-found' })
    await engine.start(REF, 'hi')
    await expect(engine.start(REF, 'again')).rejects.toMatchObject({ code: 'already-started' })
    await expect(engine.run(REF, '  ')).rejects.toMatchObject({ code: 'invalid-input' })
  })

  it('start without a base says to run init', async () => {
    await expect(engine.start(REF, 'hi')).rejects.toMatchObject({ code: 'no-base' })
    expect(await store.getIssue(REF)).toBeUndefined()
  })

  it('writes a placeholder record before opencode runs', async () => {
    await engine.init()
    let seen: IssueRecord | undefined
    const run = opencode.run.bind(opencode)
    opencode.run = async (request) => {
      seen = await store.getIssue(REF)
      return run(request)
    }
    await engine.start(REF, 'hi')
    expect(seen).toMatchObject({ ref: REF, sessionId: null, turns: 0, pending: { mode: 'start' } })
  })

  it('a failed run leaves the previous record and export as they were', async () => {
    await engine.init()
    await engine.start(REF, 'first')
    const before = await store.getIssue(REF)
    const exportBefore = await store.readIssueExport(REF)
    opencode.failNextRun = new KugetsuError('provider-error', 'model said 500')
    opencode.calls = []
    await expect(engine.continue(REF, 'second')).rejects.toMatchObject({ code: 'provider-error' })
    // opencode's own copy is put back from the stored export.
    expect(opencode.calls).toEqual([
      `run ${before!.sessionId}`,
      `delete ${before!.sessionId}`,
      `import ${before!.sessionId}`
    ])
    const after = await store.getIssue(REF)
    expect(after).toEqual({ ...before, lastError: 'model said 500' })
    expect(await store.readIssueExport(REF)).toBe(exportBefore)
    const next = await engine.continue(REF, 'third')
    expect(next.result.text).toBe('ECHO: be helpful | first | third')
    expect(next.record.lastError).toBeUndefined()
  })

  it('a failed first run leaves no record behind', async () => {
    await engine.init()
    opencode.failNextRun = new KugetsuError('timeout', 'timed out')
    await expect(engine.start(REF, 'first')).rejects.toMatchObject({ code: 'timeout' })
    expect(await store.getIssue(REF)).toBeUndefined()
  })

  it('imports a session opencode does not know, only when needed', async () => {
    await engine.init()
    await engine.start(REF, 'first')
    opencode.sessions.clear()
    opencode.calls = []
    const outcome = await engine.continue(REF, 'second')
    expect(outcome.result.text).toBe('ECHO: be helpful | first | second')
    expect(opencode.calls).toEqual([
      `run ${outcome.record.sessionId}`,
      `import ${outcome.record.sessionId}`,
      `run ${outcome.record.sessionId}`,
      `export ${outcome.record.sessionId}`
    ])
    opencode.calls = []
    await engine.continue(REF, 'third')
    expect(opencode.calls.filter((call) => call.startsWith('import'))).toEqual([])
  })

  it('with importBeforeRun, imports first and never probes', async () => {
    const { base } = await engine.init()
    opencode.sessions.clear()
    opencode.calls = []
    const fresh = new Engine({
      store,
      driver: opencode,
      cwd: dir,
      basePrompt: 'be helpful',
      importBeforeRun: true
    })
    const outcome = await fresh.start(REF, 'first')
    expect(opencode.calls).toEqual([
      `import ${base.sessionId}`,
      `run fork ${base.sessionId}`,
      `export ${outcome.record.sessionId}`
    ])
  })

  it('destroy forgets the issue and deletes its opencode session; prune drops broken records', async () => {
    await engine.init()
    const { record } = await engine.start(REF, 'first')
    const other = 'github.com/shoko/kugetsu#15'
    await engine.start(other, 'other')
    const destroyed = await engine.destroy(REF)
    expect(destroyed.sessionId).toBe(record.sessionId)
    expect(await store.getIssue(REF)).toBeUndefined()
    expect(opencode.calls).toContain(`delete ${record.sessionId}`)
    await expect(engine.destroy(REF)).rejects.toMatchObject({ code: 'not-found' })
    expect((await engine.list()).issues.map((issue) => issue.ref)).toEqual([other])

    await store.putIssueRecord({
      ...(await store.getIssue(other))!,
      ref: 'github.com/shoko/kugetsu#16'
    })
    const pruned = await engine.prune()
    expect(pruned.removed.map((entry) => entry.ref)).toEqual(['github.com/shoko/kugetsu#16'])
    expect((await engine.list()).issues.map((issue) => issue.ref)).toEqual([other])

    const base = await engine.destroyBase()
    expect(await store.getBase()).toBeUndefined()
    expect(opencode.calls).toContain(`delete ${base.sessionId}`)
  })
})

describe('Engine process starts', () => {
  it('a base created in this process is forked without an import', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kugetsu-engine-'))
    try {
      const opencode = new FakeOpencode()
      const engine = new Engine({
        store: createLocalStore(dir),
        driver: opencode,
        cwd: dir,
        importBeforeRun: true
      })
      const { base } = await engine.init()
      const { record } = await engine.start(REF, 'first')
      expect(opencode.calls).toEqual([
        'run new',
        `export ${base.sessionId}`,
        `run fork ${base.sessionId}`,
        `export ${record.sessionId}`
      ])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
