/**
 * Sessions managed from the workflow, with the bundled action: `list`, `destroy`, `prune` and a
 * closed issue. None starts opencode or downloads an entry: the keys say which issue an entry
 * belongs to. `destroy` and a closed issue forget a session by saving a tombstone through the
 * cache protocol, then free the space of its older entries through the caches REST API.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanupJobs } from './support/action-runner.js'
import {
  createKugetsuWorld,
  createOpencodeShim,
  dispatchEvent,
  type KugetsuWorld,
  type WorldRun
} from './support/action-e2e.js'
import { startModelServer, type ModelServer } from './support/model-server.js'
import { DEFAULT_BASE_PROMPT, hashPrompt } from '../src/engine.js'
import { readArchive } from './support/cache-server.js'

const REPO = 'octo-org/octo-repo'
const scratch = mkdtempSync(join(tmpdir(), 'kugetsu-action-list-'))
let model: ModelServer
let world: KugetsuWorld

beforeAll(async () => {
  model = await startModelServer()
  world = await createKugetsuWorld({
    protocol: 'v2',
    serverUrl: 'https://github.com',
    repo: REPO,
    model,
    shim: await createOpencodeShim(scratch),
    env: {},
    scratch,
    firstRunId: 5000
  })
  const seed = (key: string, day: number) =>
    world.cache.store.seed({
      key,
      version: 'v',
      archive: Buffer.alloc(2048),
      createdAt: new Date(Date.UTC(2026, 10, day))
    })
  seed('kugetsu-v1-base-0123456789abcdef-1-1', 1)
  seed('kugetsu-v1-issue-7-2-1-t1-ses_seven', 2)
  seed('kugetsu-v1-issue-7-3-1-t2-ses_seven', 3)
  seed('kugetsu-v1-issue-70-4-1-t1-ses_seventy', 4)
  seed('other-prefix-issue-8-5-1-t1-ses_other', 5)
  for (const number of [7, 70, 9, 10, 71]) {
    world.github.state.addIssue(REPO, { number, title: `Issue ${number}`, user: 'alice' })
  }
  world.github.state.setPermission(REPO, 'alice', 'write')
  world.github.state.setPermission(REPO, 'rita', 'read')
})

afterAll(async () => {
  await world?.close()
  await model?.close()
  cleanupJobs()
  rmSync(scratch, { recursive: true, force: true })
})

describe('command: list', () => {
  test('reports each tracked issue once, newest entry, from the REST API alone', async () => {
    const run = await world.run({
      event: { name: 'workflow_dispatch', payload: { inputs: {} } },
      inputs: { command: 'list' }
    })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ skipped: 'false', mode: 'list' })
    const sessions = JSON.parse(run.outputs.sessions) as Record<string, unknown>[]
    expect(sessions).toEqual([
      expect.objectContaining({
        ref: 'github.com/octo-org/octo-repo#7',
        sessionId: 'ses_seven',
        turns: 2
      }),
      expect.objectContaining({
        ref: 'github.com/octo-org/octo-repo#70',
        sessionId: 'ses_seventy',
        turns: 1
      })
    ])
    expect(sessions[0].updatedAt).toBe('2026-11-03T00:00:00.000Z')
    expect(run.result.summary).toContain('github.com/octo-org/octo-repo#70')
    expect(run.opencode).toHaveLength(0)
    expect(run.cache).toHaveLength(0)
    expect(model.requests).toHaveLength(0)
  }, 60_000)
})

const dispatch = { name: 'workflow_dispatch', payload: { inputs: {} } }
const INDEX_KEY = /^kugetsu-v1-index-\d+-\d+$/
/** Every entry but the session index's (kept by runs off github.com, and by earlier versions). */
const keys = () =>
  world.cache.store.entries
    .map((entry) => entry.key)
    .filter((key) => !INDEX_KEY.test(key))
    .sort()
const indexKeys = () =>
  world.cache.store.entries.map((entry) => entry.key).filter((key) => INDEX_KEY.test(key))
/** The tombstone a run saved for an issue (see forget.ts). */
const tombstoneOf = (run: WorldRun, number: number) =>
  `kugetsu-v1-issue-${number}-${run.runId}-1-forgotten`
/** The entries that are not tombstones. */
const sessionKeys = () => keys().filter((key) => !key.endsWith('-forgotten'))
const deletions = (run: { github: { method: string; path: string }[] }) =>
  run.github.filter((r) => r.method === 'DELETE').length

describe('command: destroy', () => {
  test('saves a tombstone, then deletes every other entry of the issue (of #70, never #7)', async () => {
    const run = await world.run({
      event: dispatchEvent(world.context, 'alice'),
      inputs: { command: 'destroy', 'issue-ref': '70' }
    })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      mode: 'destroy',
      'issue-ref': `github.com/${REPO}#70`,
      'deleted-entries': '1'
    })
    expect(keys()).toEqual([
      'kugetsu-v1-base-0123456789abcdef-1-1',
      'kugetsu-v1-issue-7-2-1-t1-ses_seven',
      'kugetsu-v1-issue-7-3-1-t2-ses_seven',
      tombstoneOf(run, 70),
      'other-prefix-issue-8-5-1-t1-ses_other'
    ])
    expect(run.result.summary).toContain('kugetsu-v1-issue-70-4-1-t1-ses_seventy')
    // The tombstone is the one entry saved, through the cache protocol; nothing was downloaded.
    expect(run.saved.map((entry) => entry.key)).toEqual([tombstoneOf(run, 70)])
    const [tomb] = readArchive(run.saved[0])
      .filter((member) => member.path.endsWith('record.json'))
      .map((member) => JSON.parse(member.data.toString('utf8')) as Record<string, unknown>)
    expect(tomb).toMatchObject({
      ref: `github.com/${REPO}#70`,
      sessionId: null,
      forgotten: { by: 'alice', reason: 'destroy', at: expect.any(String) }
    })
    expect(run.cache.filter((request) => request.kind === 'download')).toEqual([])
    expect(run.opencode).toHaveLength(0)
    expect(run.comments).toHaveLength(0)

    // list no longer shows #70: its newest entry is a tombstone.
    const list = await world.run({ event: dispatch, inputs: { command: 'list' } })
    expect(JSON.parse(list.outputs.sessions)).toEqual([
      expect.objectContaining({ ref: `github.com/${REPO}#7` })
    ])
    expect(list.result.summary).toContain('1 forgotten')
  }, 60_000)

  test('an issue without entries is a success that deletes nothing; a bad ref fails at once', async () => {
    const none = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': '#71' }
    })
    expect(none.result.exitCode).toBe(0)
    expect(none.outputs['deleted-entries']).toBe('0')
    expect(none.saved.map((entry) => entry.key)).toEqual([tombstoneOf(none, 71)])
    const bad = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': '../x#1' }
    })
    expect(bad.result.exitCode).toBe(1)
    expect(bad.github).toEqual([])
    const missing = await world.run({ event: dispatch, inputs: { command: 'destroy' } })
    expect(missing.result.stdout).toContain(
      '::error::command destroy needs issue-ref (an issue, or "base")'
    )
  }, 60_000)

  test('a token without actions: write fails clearly and deletes nothing (the tombstone stands)', async () => {
    const eleven = world.cache.store.seed({
      key: 'kugetsu-v1-issue-11-6-1-t1-ses_eleven',
      version: 'v',
      archive: Buffer.alloc(64)
    })
    world.github.failNext((method) => method === 'DELETE', { status: 403, count: 1 })
    const run = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': '11' }
    })
    expect(run.result.exitCode).toBe(1)
    expect(run.result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual(
      [
        expect.stringMatching(
          /^could not delete the cache entry kugetsu-v1-issue-11-6-1-t1-ses_eleven: .*\(the token needs actions: write\)$/
        )
      ]
    )
    expect(keys()).toEqual(expect.arrayContaining([eleven.key, tombstoneOf(run, 11)]))
    for (const entry of world.cache.store.committed.filter((e) => e.key.includes('-issue-11-'))) {
      world.cache.store.delete(entry.id)
    }
  }, 60_000)

  test('a forge without the caches REST API (Gitea, Forgejo): the tombstone alone forgets the session', async () => {
    const twelve = world.cache.store.seed({
      key: 'kugetsu-v1-issue-12-6-1-t1-ses_twelve',
      version: 'v',
      archive: Buffer.alloc(64)
    })
    world.github.failNext((method, path) => method === 'GET' && path.endsWith('/actions/caches'), {
      status: 404,
      count: 1
    })
    const run = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': '12' }
    })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ mode: 'destroy', 'deleted-entries': '0' })
    expect(run.saved.map((entry) => entry.key)).toEqual([tombstoneOf(run, 12)])
    expect(run.result.summary).toContain(
      `the tombstone ${tombstoneOf(run, 12)} forgets the session, and its older entries are left to the cache's own eviction`
    )
    expect(keys()).toContain(twelve.key)
    for (const entry of world.cache.store.committed.filter((e) => e.key.includes('-issue-12-'))) {
      world.cache.store.delete(entry.id)
    }
  }, 60_000)
})

describe('command: prune', () => {
  test('deletes superseded entries, older bases and the entries of closed issues', async () => {
    const base = `kugetsu-v1-base-${hashPrompt(`\n${DEFAULT_BASE_PROMPT}`).slice(0, 16)}`
    const seed = (key: string, day: number) =>
      world.cache.store.seed({
        key,
        version: 'v',
        archive: Buffer.alloc(1024),
        createdAt: new Date(Date.UTC(2026, 10, day))
      })
    seed(`${base}-11-1`, 11)
    seed(`${base}-12-1`, 12)
    seed('kugetsu-v1-issue-9-13-1-t1-ses_nine', 13)
    seed('kugetsu-v1-issue-10-14-1-t1-ses_ten', 14)
    seed('kugetsu-v1-issue-10-15-1-t2-ses_ten', 15)
    world.github.state.issue(REPO, 9)!.state = 'closed'
    // Runs on github.com keep no session index (its caches REST API lists), but earlier versions
    // saved one entry per turn: all but the newest are superseded.
    expect(indexKeys()).toEqual([])
    seed('kugetsu-v1-index-16-1', 16)
    seed('kugetsu-v1-index-17-1', 17)
    seed('kugetsu-v1-index-18-2', 18)
    const superseded = indexKeys().length - 1

    const run = await world.run({ event: dispatch, inputs: { command: 'prune' } })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      mode: 'prune',
      'deleted-entries': String(4 + superseded)
    })
    expect(indexKeys()).toHaveLength(1)
    expect(sessionKeys()).toEqual(
      [
        `${base}-12-1`,
        'kugetsu-v1-base-0123456789abcdef-1-1',
        'kugetsu-v1-issue-10-15-1-t2-ses_ten',
        'kugetsu-v1-issue-7-3-1-t2-ses_seven',
        'other-prefix-issue-8-5-1-t1-ses_other'
      ].sort()
    )
    // #70's and #71's tombstones, the newest of open issues, stay.
    expect(keys().filter((key) => key.endsWith('-forgotten'))).toHaveLength(2)
    expect(deletions(run)).toBe(4 + superseded)
    expect(run.opencode).toHaveLength(0)
    expect(run.cache).toHaveLength(0)
  }, 60_000)
})

describe('closing an issue', () => {
  const closedBy = (number: number, sender: string) => {
    const issue = world.github.state.issue(REPO, number)!
    issue.state = 'closed'
    return {
      name: 'issues',
      payload: {
        action: 'closed',
        issue: { number, title: issue.title, body: '', user: { login: 'alice' } },
        repository: { full_name: REPO, private: false },
        sender: { login: sender, type: 'User' }
      }
    }
  }

  test('by someone who may not use kugetsu (a reader, its author) changes nothing, and says why', async () => {
    const before = keys()
    const run = await world.run({ event: closedBy(10, 'rita') })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ skipped: 'true', 'issue-ref': `github.com/${REPO}#10` })
    expect(run.outputs['skip-reason']).toMatch(
      new RegExp(
        `^closed by "rita", who may not use kugetsu \\(.*\\): the session of github\\.com/${REPO}#10 is kept$`
      )
    )
    expect(keys()).toEqual(before)
    expect(run.saved).toEqual([])
    expect(run.github.filter((r) => r.method === 'DELETE')).toEqual([])
    // A payload without a sender is not trusted either.
    const unsigned = closedBy(10, 'x')
    delete (unsigned.payload as { sender?: unknown }).sender
    const anonymous = await world.run({ event: unsigned })
    expect(anonymous.outputs['skip-reason']).toBe(
      `the closed event names no sender: the session of github.com/${REPO}#10 is kept`
    )
    expect(keys()).toEqual(before)
  }, 60_000)

  test('by a writer forgets its session: a tombstone, then its older entries deleted', async () => {
    const run = await world.run({ event: closedBy(10, 'alice') })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      mode: 'destroy',
      'issue-ref': `github.com/${REPO}#10`,
      'deleted-entries': '1'
    })
    expect(keys()).not.toContain('kugetsu-v1-issue-10-15-1-t2-ses_ten')
    expect(keys()).toContain(tombstoneOf(run, 10))
    expect(run.result.summary).toContain(
      `github.com/${REPO}#10 was closed by alice: forgot its session`
    )
  }, 60_000)

  test('command: destroy with issue-ref base deletes the base entries only', async () => {
    const run = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': 'base' }
    })
    expect(run.result.exitCode).toBe(0)
    expect(sessionKeys()).toEqual([
      'kugetsu-v1-issue-7-3-1-t2-ses_seven',
      'other-prefix-issue-8-5-1-t1-ses_other'
    ])
  }, 60_000)
})

describe('other refs’ scopes', () => {
  // Left by the tests above: #7's live session on the default branch.
  const LIVE = 'kugetsu-v1-issue-7-3-1-t2-ses_seven'
  const PULL_ISSUE = 'kugetsu-v1-issue-7-900-1-t9-ses_pull'
  const PULL_BASE = 'kugetsu-v1-base-0123456789abcdef-901-1'
  const BRANCH_ISSUE = 'kugetsu-v1-issue-7-902-1-t9-ses_branch'
  const listed = (run: WorldRun) =>
    run.github.filter((r) => r.method === 'GET' && r.path.endsWith('/actions/caches'))
  const repoReads = (run: WorldRun) =>
    run.github.filter((r) => r.method === 'GET' && r.path === `/repos/${REPO}`)

  beforeAll(() => {
    // A pull request run and a manual run on a feature branch saved newer entries of #7.
    const seed = (key: string, ref: string) =>
      world.cache.store.seed({
        key,
        version: 'v',
        ref,
        archive: Buffer.alloc(512),
        createdAt: new Date(Date.UTC(2026, 11, 1))
      })
    seed(PULL_ISSUE, 'refs/pull/12/merge')
    seed(PULL_BASE, 'refs/pull/12/merge')
    seed(BRANCH_ISSUE, 'refs/heads/feature')
  })
  afterAll(() => {
    world.github.cacheListIgnoresRef = false
  })

  test('list shows the default branch’s session only, asking the API for that ref', async () => {
    const run = await world.run({
      event: dispatchEvent(world.context, 'alice'),
      inputs: { command: 'list' }
    })
    expect(run.result.exitCode).toBe(0)
    const sessions = JSON.parse(run.outputs.sessions) as Record<string, unknown>[]
    expect(sessions).toEqual([expect.objectContaining({ sessionId: 'ses_seven', turns: 2 })])
    expect(run.result.summary).not.toMatch(/ses_pull|ses_branch|-901-1/)
    expect(listed(run).map((r) => r.query.ref)).toEqual(['refs/heads/main'])
    // The payload named the default branch: no call to read it.
    expect(repoReads(run)).toEqual([])
  }, 60_000)

  test('without the branch in the payload, one call reads it; another default branch lists nothing here', async () => {
    const repo = world.github.state.repo(REPO)!
    repo.defaultBranch = 'trunk'
    try {
      const run = await world.run({ event: dispatch, inputs: { command: 'list' } })
      expect(run.result.exitCode).toBe(0)
      expect(JSON.parse(run.outputs.sessions)).toEqual([])
      expect(repoReads(run)).toHaveLength(1)
      expect(listed(run).map((r) => r.query.ref)).toEqual(['refs/heads/trunk'])
    } finally {
      repo.defaultBranch = 'main'
    }
  }, 60_000)

  test('a service that ignores ref: list, prune and destroy still leave other scopes alone', async () => {
    world.github.cacheListIgnoresRef = true
    const list = await world.run({ event: dispatch, inputs: { command: 'list' } })
    expect(list.result.exitCode).toBe(0)
    expect(JSON.parse(list.outputs.sessions)).toEqual([
      expect.objectContaining({ sessionId: 'ses_seven', turns: 2 })
    ])
    expect(list.result.summary).toContain(
      "3 entries of other branches or pull requests ignored (only refs/heads/main's are worked on)"
    )

    const superseded = indexKeys().length - 1
    const prune = await world.run({ event: dispatch, inputs: { command: 'prune' } })
    expect(prune.result.exitCode).toBe(0)
    // Only the default branch's superseded session index entries.
    expect(prune.outputs['deleted-entries']).toBe(String(superseded))
    expect(keys()).toEqual(expect.arrayContaining([LIVE, PULL_ISSUE, PULL_BASE, BRANCH_ISSUE]))

    const base = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': 'base' }
    })
    expect(base.result.exitCode).toBe(0)
    expect(keys()).toContain(PULL_BASE)

    const seven = world.github.state.issue(REPO, 7)!
    seven.state = 'closed'
    const closed = await world.run({
      event: {
        name: 'issues',
        payload: {
          action: 'closed',
          issue: { number: 7, title: seven.title, body: '', user: { login: 'alice' } },
          repository: { full_name: REPO, private: false, default_branch: 'main' },
          sender: { login: 'alice', type: 'User' }
        }
      }
    })
    expect(closed.result.exitCode).toBe(0)
    expect(closed.outputs['deleted-entries']).toBe('1')
    expect(closed.github.filter((r) => r.method === 'DELETE').map((r) => r.path)).toHaveLength(1)
    expect(keys()).not.toContain(LIVE)
    expect(keys()).toEqual(expect.arrayContaining([PULL_ISSUE, PULL_BASE, BRANCH_ISSUE]))
  }, 90_000)
})
