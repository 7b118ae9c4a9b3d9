/**
 * Sessions managed from the workflow, with the bundled action: `list`, `destroy`, `prune` and a
 * closed issue. All of them work from the caches REST API alone (no opencode, no cache download):
 * the keys say which issue an entry belongs to.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanupJobs } from './support/action-runner.js'
import { createKugetsuWorld, createOpencodeShim, type KugetsuWorld } from './support/action-e2e.js'
import { startModelServer, type ModelServer } from './support/model-server.js'
import { DEFAULT_BASE_PROMPT, hashPrompt } from '../src/engine.js'

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
  for (const number of [7, 70, 9, 10]) {
    world.github.state.addIssue(REPO, { number, title: `Issue ${number}`, user: 'alice' })
  }
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
const keys = () => world.cache.store.entries.map((entry) => entry.key).sort()
const deletions = (run: { github: { method: string; path: string }[] }) =>
  run.github.filter((r) => r.method === 'DELETE').length

describe('command: destroy', () => {
  test('deletes every entry of the issue (of #70, never #7) and nothing else', async () => {
    const run = await world.run({
      event: dispatch,
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
      'other-prefix-issue-8-5-1-t1-ses_other'
    ])
    expect(run.result.summary).toContain('kugetsu-v1-issue-70-4-1-t1-ses_seventy')
    expect(run.opencode).toHaveLength(0)
    expect(run.cache).toHaveLength(0)
    expect(run.comments).toHaveLength(0)
  }, 60_000)

  test('an issue without entries is a success that deletes nothing; a bad ref fails at once', async () => {
    const none = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': '#70' }
    })
    expect(none.result.exitCode).toBe(0)
    expect(none.outputs['deleted-entries']).toBe('0')
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

  test('a token without actions: write fails clearly and deletes nothing', async () => {
    world.github.failNext((method) => method === 'DELETE', { status: 403, count: 1 })
    const run = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': '7' }
    })
    expect(run.result.exitCode).toBe(1)
    expect(run.result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual(
      [
        expect.stringMatching(
          /^could not delete the cache entry kugetsu-v1-issue-7-.*\(the token needs actions: write\)$/
        )
      ]
    )
    expect(keys()).toContain('kugetsu-v1-issue-7-3-1-t2-ses_seven')
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

    const run = await world.run({ event: dispatch, inputs: { command: 'prune' } })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ mode: 'prune', 'deleted-entries': '4' })
    expect(keys()).toEqual(
      [
        `${base}-12-1`,
        'kugetsu-v1-base-0123456789abcdef-1-1',
        'kugetsu-v1-issue-10-15-1-t2-ses_ten',
        'kugetsu-v1-issue-7-3-1-t2-ses_seven',
        'other-prefix-issue-8-5-1-t1-ses_other'
      ].sort()
    )
    expect(deletions(run)).toBe(4)
    expect(run.opencode).toHaveLength(0)
    expect(run.cache).toHaveLength(0)
  }, 60_000)
})

describe('closing an issue', () => {
  test('destroys its session when the workflow listens for issues: closed', async () => {
    const ten = world.github.state.issue(REPO, 10)!
    ten.state = 'closed'
    const run = await world.run({
      event: {
        name: 'issues',
        payload: {
          action: 'closed',
          issue: { number: 10, title: ten.title, body: '', user: { login: 'alice' } },
          repository: { full_name: REPO, private: false }
        }
      }
    })
    expect(run.result.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      mode: 'destroy',
      'issue-ref': `github.com/${REPO}#10`,
      'deleted-entries': '1'
    })
    expect(keys()).not.toContain('kugetsu-v1-issue-10-15-1-t2-ses_ten')
    expect(run.result.summary).toContain(`github.com/${REPO}#10 was closed: destroyed its session`)
  }, 60_000)

  test('command: destroy with issue-ref base deletes the base entries only', async () => {
    const run = await world.run({
      event: dispatch,
      inputs: { command: 'destroy', 'issue-ref': 'base' }
    })
    expect(run.result.exitCode).toBe(0)
    expect(keys()).toEqual([
      'kugetsu-v1-issue-7-3-1-t2-ses_seven',
      'other-prefix-issue-8-5-1-t1-ses_other'
    ])
  }, 60_000)
})
