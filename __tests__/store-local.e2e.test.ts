import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { KugetsuError } from '../src/errors.js'
import { parseIssueRef, refFileStem } from '../src/refs.js'
import {
  acquireLock,
  nodeFs,
  writeFileAtomic,
  type StoreFs,
  type WriteHandle
} from '../src/store/atomic.js'
import { createLocalStore, pruneLocalStore, type LocalStoreOptions } from '../src/store/local.js'
import type { BaseRecord, IssueRecord } from '../src/store/types.js'

const REF = 'github.com/shoko/kugetsu#1'
const REF2 = 'github.com/shoko/kugetsu#2'
const T0 = '2025-01-01T00:00:00.000Z'
const T1 = '2025-01-02T00:00:00.000Z'

function issue(ref: string, over: Partial<IssueRecord> = {}): IssueRecord {
  return {
    ref,
    sessionId: 'ses_issue',
    baseSessionId: 'ses_base',
    createdAt: T0,
    updatedAt: T0,
    turns: 1,
    ...over
  }
}

const base: BaseRecord = { sessionId: 'ses_base', createdAt: T0, promptHash: 'abc', model: 'p/m' }
const exportOf = (id: string, n = 0) => JSON.stringify({ info: { id }, messages: [n] })
const stem = (ref: string) => refFileStem(parseIssueRef(ref))

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kugetsu-store-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function files(relative = ''): Promise<string[]> {
  try {
    return (await readdir(join(dir, relative))).sort()
  } catch {
    return []
  }
}

async function expectError(promise: Promise<unknown>, code: string, pattern?: RegExp) {
  let caught: unknown
  try {
    await promise
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(KugetsuError)
  expect((caught as KugetsuError).code).toBe(code)
  expect((caught as KugetsuError).message).not.toContain('\n')
  if (pattern) expect((caught as KugetsuError).message).toMatch(pattern)
  return caught as KugetsuError
}

type FailureCase = [string, 'write' | 'sync' | 'rename', (path: string) => boolean]

const injected = () => Object.assign(new Error('EIO: injected failure'), { code: 'EIO' })

/** A store whose fs fails on the operations `fail` picks. */
function faultyStore(
  fail: (op: 'open' | 'write' | 'sync' | 'rename' | 'unlink', path: string) => boolean,
  options: LocalStoreOptions = {}
) {
  const fs: Partial<StoreFs> = {
    async open(path, flags, mode) {
      if (fail('open', path)) throw injected()
      const handle = await nodeFs.open(path, flags, mode)
      const wrapped: WriteHandle = {
        async writeFile(data) {
          if (fail('write', path)) {
            await handle.writeFile(data.slice(0, Math.floor(data.length / 2)))
            throw injected()
          }
          await handle.writeFile(data)
        },
        async sync() {
          if (fail('sync', path)) throw injected()
          await handle.sync()
        },
        close: () => handle.close()
      }
      return wrapped
    },
    async rename(from, to) {
      if (fail('rename', to)) throw injected()
      await nodeFs.rename(from, to)
    },
    async unlink(path) {
      if (fail('unlink', path)) throw injected()
      await nodeFs.unlink(path)
    }
  }
  return createLocalStore(dir, { ...options, fs })
}

describe('createLocalStore', () => {
  it('reads as empty and creates nothing until written', async () => {
    const store = createLocalStore(join(dir, 'state'))
    expect(await store.getBase()).toBeUndefined()
    expect(await store.readBaseExport()).toBeUndefined()
    expect(await store.getIssue(REF)).toBeUndefined()
    expect(await store.readIssueExport(REF)).toBeUndefined()
    expect(await store.listIssues()).toEqual([])
    expect(await store.listExportFiles()).toEqual([])
    expect(await store.listOrphanFiles()).toEqual([])
    await store.deleteIssue(REF)
    expect(await pruneLocalStore(store)).toEqual({ removed: [], kept: [], orphanFiles: [] })
    expect(await files()).toEqual([])
  })

  it('stores the base and its export, and replaces them together', async () => {
    const store = createLocalStore(dir)
    await store.putBase(base, exportOf('ses_base'))
    expect(await store.getBase()).toEqual(base)
    expect(await store.readBaseExport()).toBe(exportOf('ses_base'))
    const replacement = { ...base, sessionId: 'ses_base2', promptHash: 'def' }
    await store.putBase(replacement, exportOf('ses_base2'))
    expect(await store.getBase()).toEqual(replacement)
    expect(await store.readBaseExport()).toBe(exportOf('ses_base2'))
    expect((await files()).filter((name) => name.startsWith('base'))).toHaveLength(1)
    await store.deleteBase()
    expect(await store.getBase()).toBeUndefined()
    expect(await store.readBaseExport()).toBeUndefined()
    expect(await files()).toEqual(['index.json'])
    await store.deleteBase()
  })

  it('stores issues under canonical refs with the documented layout', async () => {
    const store = createLocalStore(dir)
    const record = issue(REF, {
      lastTokens: { input: 1, output: 2, reasoning: 0, cacheRead: 3, cacheWrite: 4 },
      lastCost: 0.5
    })
    await store.putBase(base, exportOf('ses_base'))
    await store.putIssue({ ...record, ref: 'GitHub.com/Shoko/Kugetsu#1' }, exportOf('ses_issue'))
    expect(await store.getIssue(REF)).toEqual(record)
    expect(await store.getIssue('github.com/SHOKO/kugetsu#1')).toEqual(record)
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_issue'))
    expect(await store.listIssues()).toEqual([record])

    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
    expect(index.version).toBe(1)
    expect(index.base).toMatchObject({ ...base })
    expect(Object.keys(index.issues)).toEqual([REF])
    expect(index.issues[REF]).toMatchObject({ ...record })
    const exportFile: string = index.issues[REF].exportFile
    expect(exportFile.startsWith(`${stem(REF)}.`)).toBe(true)
    expect(await store.listExportFiles()).toEqual([`issues/${exportFile}`])
    expect(await readFile(join(dir, 'issues', exportFile), 'utf8')).toBe(exportOf('ses_issue'))
    expect(await files()).toEqual(['index.json', 'issues', index.base.exportFile].sort())
  })

  it('refuses refs that are not full refs', async () => {
    const store = createLocalStore(dir)
    await expectError(store.getIssue('#1'), 'invalid-ref')
    await expectError(store.readIssueExport('../../etc/passwd'), 'invalid-ref')
    await expectError(store.putIssueRecord(issue('shoko/kugetsu#1')), 'invalid-ref')
    expect(await files()).toEqual([])
  })

  it('refuses malformed records without writing anything', async () => {
    const store = createLocalStore(dir)
    await store.putIssue(issue(REF), exportOf('ses_issue'))
    const before = await readFile(join(dir, 'index.json'), 'utf8')
    const bad = [
      { ...issue(REF), turns: -1 },
      { ...issue(REF), turns: 1.5 },
      { ...issue(REF), sessionId: '' },
      { ...issue(REF), baseSessionId: undefined },
      { ...issue(REF), pending: { startedAt: T0, mode: 'later' } },
      { ...issue(REF), lastCost: Number.NaN },
      { ...issue(REF), lastTokens: { input: 1 } }
    ] as unknown as IssueRecord[]
    for (const record of bad) {
      await expectError(store.putIssueRecord(record), 'invalid-input', /invalid issue record/)
      await expectError(store.putIssue(record, '{}'), 'invalid-input')
    }
    await expectError(
      store.putBase({ ...base, promptHash: 3 } as unknown as BaseRecord, '{}'),
      'invalid-input'
    )
    await expectError(store.putIssue(issue(REF), undefined as unknown as string), 'invalid-input')
    expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(before)
    expect(await store.listOrphanFiles()).toEqual([])
  })

  it('keeps store-managed fields to itself', async () => {
    const store = createLocalStore(dir)
    await store.putIssue(issue(REF), exportOf('a'))
    // A caller cannot point a record at a file of its choosing.
    await store.putIssueRecord({ ...issue(REF), exportFile: '../../../etc/passwd' } as IssueRecord)
    expect(await store.readIssueExport(REF)).toBe(exportOf('a'))
    expect(await store.getIssue(REF)).not.toHaveProperty('exportFile')
  })

  it('writes a placeholder, then completes it', async () => {
    const store = createLocalStore(dir)
    const placeholder = issue(REF, {
      sessionId: null,
      turns: 0,
      pending: { startedAt: T0, mode: 'start', pid: process.pid }
    })
    await store.putIssueRecord(placeholder)
    expect(await store.getIssue(REF)).toEqual(placeholder)
    expect(await store.readIssueExport(REF)).toBeUndefined()
    expect(await store.listExportFiles()).toEqual([])

    const done = issue(REF, { sessionId: 'ses_1', turns: 1, updatedAt: T1 })
    await store.putIssue(done, exportOf('ses_1'))
    expect(await store.getIssue(REF)).toEqual(done)
    expect(await store.getIssue(REF)).not.toHaveProperty('pending')
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_1'))

    // The next turn: a placeholder over a completed record keeps its export.
    await store.putIssueRecord({ ...done, pending: { startedAt: T1, mode: 'continue' } })
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_1'))
    await store.putIssue({ ...done, turns: 2 }, exportOf('ses_1', 2))
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_1', 2))
    expect(await store.listExportFiles()).toHaveLength(1)
    expect(await store.listOrphanFiles()).toEqual([])
  })

  it('deletes an issue and its export, and is idempotent', async () => {
    const store = createLocalStore(dir)
    await store.putIssue(issue(REF), exportOf('a'))
    await store.putIssue(issue(REF2), exportOf('b'))
    await store.deleteIssue(REF)
    await store.deleteIssue(REF)
    expect(await store.getIssue(REF)).toBeUndefined()
    expect(await store.readIssueExport(REF)).toBeUndefined()
    expect(await store.listIssues()).toEqual([issue(REF2)])
    expect(await store.listExportFiles()).toHaveLength(1)
  })

  it('returns undefined for a record whose export file is missing', async () => {
    const store = createLocalStore(dir)
    await store.putIssue(issue(REF), exportOf('a'))
    const [file] = await store.listExportFiles()
    await rm(join(dir, file))
    expect(await store.getIssue(REF)).toEqual(issue(REF))
    expect(await store.readIssueExport(REF)).toBeUndefined()
  })

  it('reads the layout of the original tool (records without exportFile)', async () => {
    await mkdir(join(dir, 'issues'))
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({ version: 1, base, issues: { [REF]: issue(REF) } })
    )
    await writeFile(join(dir, 'base.json'), exportOf('ses_base'))
    await writeFile(join(dir, 'issues', `${stem(REF)}.json`), exportOf('ses_issue'))
    const store = createLocalStore(dir)
    expect(await store.readBaseExport()).toBe(exportOf('ses_base'))
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_issue'))
    expect(await store.listOrphanFiles()).toEqual([])
    // The next write moves it to a new file and drops the old one.
    await store.putIssue(issue(REF, { turns: 2 }), exportOf('ses_issue', 2))
    await store.putBase(base, exportOf('ses_base', 2))
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_issue', 2))
    expect(await store.readBaseExport()).toBe(exportOf('ses_base', 2))
    expect(await files('issues')).not.toContain(`${stem(REF)}.json`)
    expect(await files()).not.toContain('base.json')
  })
})

describe('atomicity', () => {
  async function seed() {
    const store = createLocalStore(dir)
    await store.putBase(base, exportOf('ses_base'))
    await store.putIssue(issue(REF), exportOf('ses_issue'))
    return {
      index: await readFile(join(dir, 'index.json'), 'utf8'),
      exports: await files('issues')
    }
  }

  async function expectPreviousState(before: { index: string; exports: string[] }) {
    const store = createLocalStore(dir)
    expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(before.index)
    expect(await store.getIssue(REF)).toEqual(issue(REF))
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_issue'))
    expect(await store.getBase()).toEqual(base)
    expect(await store.readBaseExport()).toBe(exportOf('ses_base'))
  }

  it('writeFileAtomic leaves the old file and no temporary file when a step fails', async () => {
    const path = join(dir, 'file.json')
    await writeFile(path, 'old')
    for (const step of ['write', 'sync', 'rename'] as const) {
      const fs: StoreFs = {
        ...nodeFs,
        async open(file, flags, mode) {
          const handle = await nodeFs.open(file, flags, mode)
          return {
            writeFile: async (data) => {
              if (step === 'write') {
                await handle.writeFile(data.slice(0, 2))
                throw injected()
              }
              await handle.writeFile(data)
            },
            sync: async () => {
              if (step === 'sync') throw injected()
              await handle.sync()
            },
            close: () => handle.close()
          }
        },
        rename: async (from, to) => {
          if (step === 'rename') throw injected()
          await nodeFs.rename(from, to)
        }
      }
      await expect(writeFileAtomic(path, 'new content', fs)).rejects.toThrow('injected')
      expect(await readFile(path, 'utf8')).toBe('old')
      expect(await files()).toEqual(['file.json'])
    }
    await writeFileAtomic(path, 'new content')
    expect(await readFile(path, 'utf8')).toBe('new content')
    expect(await files()).toEqual(['file.json'])
  })

  it.each([
    ['a partial export write', 'write', (p: string) => p.includes(`${sep}issues${sep}`)],
    ['an export fsync', 'sync', (p: string) => p.includes(`${sep}issues${sep}`)],
    ['the export rename', 'rename', (p: string) => p.includes(`${sep}issues${sep}`)],
    ['a partial index write', 'write', (p: string) => p.includes('index.json')],
    ['the index rename', 'rename', (p: string) => p.endsWith('index.json')]
  ] as FailureCase[])(
    'a failure in %s leaves the previous record and export intact',
    async (_name, op, where) => {
      const before = await seed()
      const store = faultyStore((o, p) => o === op && where(p))
      await expect(
        store.putIssue(issue(REF, { turns: 2, updatedAt: T1 }), exportOf('ses_issue', 2))
      ).rejects.toThrow('injected')
      await expectPreviousState(before)
      // Cleaned up after itself: nothing left behind.
      expect(await files('issues')).toEqual(before.exports)
      expect(await createLocalStore(dir).listOrphanFiles()).toEqual([])
    }
  )

  it.each([
    ['a partial base export write', 'write', (p: string) => /base\.[0-9a-z]+\.json\.tmp-/.test(p)],
    ['the index rename', 'rename', (p: string) => p.endsWith('index.json')]
  ] as FailureCase[])(
    'a failure in %s leaves the previous base intact',
    async (_name, op, where) => {
      const before = await seed()
      const store = faultyStore((o, p) => o === op && where(p))
      await expect(
        store.putBase({ ...base, sessionId: 'ses_other' }, exportOf('ses_other'))
      ).rejects.toThrow('injected')
      await expectPreviousState(before)
      expect(await createLocalStore(dir).listOrphanFiles()).toEqual([])
    }
  )

  it('a crash between writing the export and the index damages nothing; prune clears the leftover', async () => {
    const before = await seed()
    // A crash: the index rename never happens and no cleanup runs either.
    const store = faultyStore(
      (op, p) =>
        (op === 'rename' && p.endsWith('index.json')) || (op === 'unlink' && !p.endsWith('.lock'))
    )
    await expect(
      store.putIssue(issue(REF, { turns: 2 }), exportOf('ses_issue', 2))
    ).rejects.toThrow('injected')
    await expectPreviousState(before)
    const healthy = createLocalStore(dir)
    const orphans = await healthy.listOrphanFiles()
    expect(orphans.length).toBeGreaterThanOrEqual(2) // the new export and the index's temporary file
    expect(orphans.some((file) => file.startsWith('issues/'))).toBe(true)
    expect(orphans.some((file) => file.startsWith('index.json.tmp-'))).toBe(true)
    const report = await pruneLocalStore(healthy)
    expect(report).toEqual({ removed: [], kept: [], orphanFiles: orphans })
    expect(await healthy.listOrphanFiles()).toEqual([])
    await expectPreviousState(before)
  })

  it('a superseded export that cannot be deleted is only an orphan', async () => {
    await seed()
    const store = faultyStore((op, p) => op === 'unlink' && !p.endsWith('.lock'))
    await store.putIssue(issue(REF, { turns: 2 }), exportOf('ses_issue', 2))
    expect(await store.readIssueExport(REF)).toBe(exportOf('ses_issue', 2))
    const healthy = createLocalStore(dir)
    expect(await healthy.listOrphanFiles()).toHaveLength(1)
    await pruneLocalStore(healthy)
    expect(await healthy.listExportFiles()).toHaveLength(1)
    expect(await healthy.readIssueExport(REF)).toBe(exportOf('ses_issue', 2))
  })
})

describe('concurrency', () => {
  it('loses no update among many concurrent writers in one process', async () => {
    const stores = [createLocalStore(dir), createLocalStore(dir), createLocalStore(dir)]
    const refs = Array.from({ length: 60 }, (_, i) => `github.com/o/r#${i + 1}`)
    await Promise.all(
      refs.map((ref, i) =>
        i % 2 === 0
          ? stores[i % 3].putIssueRecord(issue(ref))
          : stores[i % 3].putIssue(issue(ref), exportOf(ref))
      )
    )
    const store = createLocalStore(dir)
    expect((await store.listIssues()).map((record) => record.ref).sort()).toEqual([...refs].sort())
    for (const [i, ref] of refs.entries()) {
      expect(await store.readIssueExport(ref)).toBe(i % 2 === 0 ? undefined : exportOf(ref))
    }
    expect(await store.listOrphanFiles()).toEqual([])
    expect(await files()).not.toContain('index.lock')
  })

  it('reads see either the old or the new state while writes go on', async () => {
    const store = createLocalStore(dir)
    await store.putIssue(issue(REF), exportOf('v', 0))
    const writes = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.putIssue(issue(REF, { turns: i + 1 }), exportOf('v', i + 1))
      )
    )
    const reader = createLocalStore(dir)
    const reads: (string | undefined)[] = []
    for (let i = 0; i < 20; i++) reads.push(await reader.readIssueExport(REF))
    await writes
    for (const text of reads) expect(text).toMatch(/^\{"info":\{"id":"v"\},"messages":\[\d+\]\}$/)
    expect(await store.readIssueExport(REF)).toBe(exportOf('v', 20))
  })

  it('loses no update among concurrent writer processes', async () => {
    // Transpile the store to plain ESM so child processes can load it without ts-jest.
    const root = fileURLToPath(new URL('..', import.meta.url))
    const build = join(dir, 'build')
    for (const file of [
      'src/errors.ts',
      'src/refs.ts',
      'src/store/atomic.ts',
      'src/store/local.ts'
    ]) {
      const source = await readFile(join(root, file), 'utf8')
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 }
      })
      const out = join(build, file.replace(/\.ts$/, '.js'))
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, outputText)
    }
    await writeFile(join(build, 'package.json'), '{"type":"module"}')
    await writeFile(
      join(build, 'child.js'),
      `import { createLocalStore } from './src/store/local.js'
const [stateDir, worker] = process.argv.slice(2)
const store = createLocalStore(stateDir)
const record = (ref) => ({ ref, sessionId: 's', baseSessionId: 'b', createdAt: 't', updatedAt: 't', turns: 1 })
for (let i = 1; i <= 15; i++) {
  const ref = 'github.com/w' + worker + '/r#' + i
  if (i % 2) await store.putIssue(record(ref), JSON.stringify({ ref }))
  else await store.putIssueRecord(record(ref))
}
`
    )
    const state = join(dir, 'state')
    const workers = [1, 2, 3, 4]
    const exits = await Promise.all(
      workers.map(
        (worker) =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(
              process.execPath,
              [join(build, 'child.js'), state, String(worker)],
              {
                stdio: ['ignore', 'ignore', 'pipe']
              }
            )
            let stderr = ''
            child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
            child.on('close', (code) => resolve({ code, stderr }))
          })
      )
    )
    for (const exit of exits) expect(exit).toEqual({ code: 0, stderr: '' })
    const store = createLocalStore(state)
    const issues = await store.listIssues()
    expect(issues).toHaveLength(workers.length * 15)
    for (const worker of workers) {
      const ref = `github.com/w${worker}/r#1`
      expect(JSON.parse((await store.readIssueExport(ref)) ?? 'null')).toEqual({ ref })
    }
    expect(await store.listOrphanFiles()).toEqual([])
  })
})

describe('lock file', () => {
  const lockPath = () => join(dir, 'index.lock')

  it('fails with state-locked while a live process holds it, then works once released', async () => {
    const held = await acquireLock(lockPath())
    const store = createLocalStore(dir, { lockTimeoutMs: 30 })
    const error = await expectError(
      store.putIssueRecord(issue(REF)),
      'state-locked',
      /locked by pid/
    )
    expect(error.message).toContain(lockPath())
    expect(await store.getIssue(REF)).toBeUndefined() // reads need no lock
    await held.release()
    await store.putIssueRecord(issue(REF))
    expect(await store.getIssue(REF)).toEqual(issue(REF))
  })

  it('waits for a lock released while waiting', async () => {
    const held = await acquireLock(lockPath())
    const store = createLocalStore(dir, { lockTimeoutMs: 10_000 })
    const write = store.putIssueRecord(issue(REF))
    await new Promise((resolve) => setImmediate(resolve))
    expect(await store.getIssue(REF)).toBeUndefined()
    await held.release()
    await write
    expect(await store.getIssue(REF)).toEqual(issue(REF))
  })

  it('breaks a lock left by a dead process', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    const { hostname } = await import('node:os')
    await writeFile(
      lockPath(),
      JSON.stringify({ pid: dead, host: hostname(), token: 'x', createdAt: T0 })
    )
    const store = createLocalStore(dir, { lockTimeoutMs: 1000 })
    await store.putIssueRecord(issue(REF))
    expect(await store.getIssue(REF)).toEqual(issue(REF))
    expect(await files()).toEqual(['index.json'])
  })

  it('recovers from a crash while breaking a lock', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    const { hostname } = await import('node:os')
    await writeFile(
      lockPath(),
      JSON.stringify({ pid: dead, host: hostname(), token: 'x', createdAt: T0 })
    )
    await writeFile(`${lockPath()}.break`, '')
    const store = createLocalStore(dir, { lockTimeoutMs: 30 })
    // A fresh breaker belongs to someone breaking the lock right now: wait for them.
    await expectError(store.putIssueRecord(issue(REF)), 'state-locked')
    const old = new Date(Date.now() - 3_600_000)
    await utimes(`${lockPath()}.break`, old, old)
    await store.putIssueRecord(issue(REF))
    expect(await files()).toEqual(['index.json'])
  })

  it('breaks an old lock of another host or an unreadable one, not a fresh one', async () => {
    const store = createLocalStore(dir, { lockTimeoutMs: 30, staleLockMs: 60_000 })
    const foreign = JSON.stringify({ pid: 1, host: 'elsewhere.invalid', token: 'x', createdAt: T0 })
    for (const content of [foreign, '']) {
      await writeFile(lockPath(), content)
      await expectError(store.putIssueRecord(issue(REF)), 'state-locked')
      const old = new Date(Date.now() - 3_600_000)
      await utimes(lockPath(), old, old)
      await store.putIssueRecord(issue(REF))
      expect(await files()).toEqual(['index.json'])
    }
  })

  it('only releases its own lock', async () => {
    const held = await acquireLock(lockPath())
    await rm(lockPath())
    const other = await acquireLock(lockPath())
    await held.release()
    expect((await stat(lockPath())).isFile()).toBe(true)
    await other.release()
    expect(await files()).toEqual([])
  })
})

describe('corrupt state', () => {
  const corruptions: [string, string, RegExp][] = [
    ['invalid JSON', '{"version": 1, "issues": {', /not valid JSON/],
    ['empty file', '', /not valid JSON/],
    ['not an object', '[]', /not a JSON object/],
    ['another version', '{"version": 2, "base": null, "issues": {}}', /version 2/],
    ['no issues', '{"version": 1, "base": null}', /issues must be an object/],
    ['bad base', '{"version": 1, "base": {"sessionId": 1}, "issues": {}}', /base\.sessionId/],
    [
      'non-canonical key',
      JSON.stringify({
        version: 1,
        base: null,
        issues: { 'GitHub.com/o/r#1': issue('GitHub.com/o/r#1') }
      }),
      /not canonical/
    ],
    [
      'invalid key',
      JSON.stringify({ version: 1, base: null, issues: { '../x#1': issue('../x#1') } }),
      /invalid issue ref/
    ],
    [
      'mismatched ref',
      JSON.stringify({ version: 1, base: null, issues: { [REF]: issue(REF2) } }),
      /ref must equal its key/
    ],
    [
      'bad field',
      JSON.stringify({ version: 1, base: null, issues: { [REF]: { ...issue(REF), turns: 'x' } } }),
      /turns/
    ],
    [
      'export file outside the store',
      JSON.stringify({
        version: 1,
        base: null,
        issues: { [REF]: { ...issue(REF), exportFile: '../../../etc/passwd' } }
      }),
      /exportFile/
    ],
    [
      'base export outside the store',
      JSON.stringify({ version: 1, base: { ...base, exportFile: '/etc/passwd' }, issues: {} }),
      /exportFile/
    ],
    [
      'export file of another issue',
      JSON.stringify({
        version: 1,
        base: null,
        issues: { [REF]: { ...issue(REF), exportFile: `${stem(REF2)}.abc.json` } }
      }),
      /exportFile/
    ]
  ]

  it.each(corruptions)('%s is reported, never reset', async (_name, content, reason) => {
    await writeFile(join(dir, 'index.json'), content)
    const store = createLocalStore(dir)
    const error = await expectError(store.listIssues(), 'corrupt-state', reason)
    expect(error.message).toContain(join(dir, 'index.json'))
    expect(error.message).toMatch(/move it aside/)
    await expectError(store.getIssue(REF), 'corrupt-state')
    await expectError(store.getBase(), 'corrupt-state')
    await expectError(store.putIssueRecord(issue(REF)), 'corrupt-state')
    await expectError(store.putIssue(issue(REF), '{}'), 'corrupt-state')
    await expectError(store.putBase(base, '{}'), 'corrupt-state')
    await expectError(pruneLocalStore(store), 'corrupt-state')
    expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(content)
    expect(await files()).toEqual(['index.json'])
  })
})

describe('prune', () => {
  async function setup() {
    const store = createLocalStore(dir)
    await store.putBase(base, exportOf('ses_base'))
    const ok = 'github.com/o/r#1'
    const missing = 'github.com/o/r#2'
    const unreadable = 'github.com/o/r#3'
    const placeholder = 'github.com/o/r#4'
    const running = 'github.com/o/r#5'
    const crashed = 'github.com/o/r#6'
    await store.putIssue(issue(ok), exportOf('a'))
    await store.putIssue(issue(missing), exportOf('b'))
    await store.putIssue(issue(unreadable), exportOf('c'))
    await store.putIssueRecord(issue(placeholder, { sessionId: null, turns: 0 }))
    await store.putIssueRecord(
      issue(running, { sessionId: null, turns: 0, pending: { startedAt: T1, mode: 'start' } })
    )
    await store.putIssue(issue(crashed), exportOf('d'))
    await store.putIssueRecord(issue(crashed, { pending: { startedAt: T1, mode: 'continue' } }))
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
    await rm(join(dir, 'issues', index.issues[missing].exportFile))
    await rm(join(dir, 'issues', index.issues[crashed].exportFile))
    await writeFile(join(dir, 'issues', index.issues[unreadable].exportFile), '{"info": {"id": "c"')
    // Leftovers: an orphan export, a stale temporary file, a legacy file; and files that are not
    // the store's, which prune must leave alone.
    await writeFile(join(dir, 'issues', `${stem(REF2)}.zzz.json`), '{}')
    await writeFile(join(dir, 'issues', `${stem(ok)}.json.tmp-1-ab`), '{')
    await writeFile(join(dir, 'base.json'), '{}')
    await writeFile(join(dir, 'index.json.tmp-12-cd'), '{')
    await writeFile(join(dir, 'notes.txt'), 'mine')
    await writeFile(join(dir, 'issues', 'README'), 'mine')
    await mkdir(join(dir, 'issues', 'sub.json'))
    return { store, ok, missing, unreadable, placeholder, running, crashed }
  }

  const expectedOrphans = (unreadableFile: string) =>
    [
      'base.json',
      'index.json.tmp-12-cd',
      `issues/${stem(REF2)}.zzz.json`,
      `issues/${stem('github.com/o/r#1')}.json.tmp-1-ab`,
      `issues/${unreadableFile}`
    ].sort()

  it('reports without removing on a dry run', async () => {
    const { store, missing, unreadable, placeholder, running, crashed } = await setup()
    const before = await readFile(join(dir, 'index.json'), 'utf8')
    const unreadableFile = JSON.parse(before).issues[unreadable].exportFile
    const report = await pruneLocalStore(store, { dryRun: true })
    expect(report.removed).toEqual([
      { ref: missing, reason: 'session export missing' },
      { ref: unreadable, reason: 'session export unreadable' },
      { ref: placeholder, reason: 'first run never completed' }
    ])
    expect(report.kept).toEqual([
      { ref: running, reason: `first run never completed; a run began ${T1}` },
      { ref: crashed, reason: `session export missing; a run began ${T1}` }
    ])
    expect(report.orphanFiles).toEqual(expectedOrphans(unreadableFile))
    expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(before)
    expect(await files('issues')).toHaveLength(6)
  })

  it('removes broken records and orphan files, keeps pending runs unless forced', async () => {
    const { store, ok, unreadable, running, crashed } = await setup()
    const unreadableFile = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).issues[
      unreadable
    ].exportFile
    const report = await pruneLocalStore(store)
    expect(report.removed).toHaveLength(3)
    expect(report.kept).toHaveLength(2)
    expect(report.orphanFiles).toEqual(expectedOrphans(unreadableFile))
    expect((await store.listIssues()).map((record) => record.ref)).toEqual([ok, running, crashed])
    expect(await store.getBase()).toEqual(base)
    expect(await store.readBaseExport()).toBe(exportOf('ses_base'))
    expect(await store.readIssueExport(ok)).toBe(exportOf('a'))
    expect(await store.listOrphanFiles()).toEqual([])
    const okFile = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).issues[ok].exportFile
    expect(await files('issues')).toEqual(['README', okFile, 'sub.json'].sort())
    expect(await files()).toContain('notes.txt')

    const forced = await pruneLocalStore(store, { force: true })
    expect(forced.removed.map((entry) => entry.ref)).toEqual([running, crashed])
    expect(forced.kept).toEqual([])
    expect((await store.listIssues()).map((record) => record.ref)).toEqual([ok])
  })

  it('removeFiles removes only current orphans', async () => {
    const { store, ok } = await setup()
    const orphans = await store.listOrphanFiles()
    const live = (await store.listExportFiles()).filter((file) => !orphans.includes(file))
    await store.removeFiles([...live, 'notes.txt', '../outside', 'index.json', orphans[0]])
    expect(await store.listOrphanFiles()).toEqual(orphans.slice(1))
    expect(await store.readIssueExport(ok)).toBe(exportOf('a'))
    expect(await files()).toContain('notes.txt')
    await store.removeFiles(orphans)
    expect(await store.listOrphanFiles()).toEqual([])
  })
})
