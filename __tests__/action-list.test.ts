/**
 * `command: list` of the bundled action: it reads the caches REST API only (no opencode, no cache
 * download) and reports every tracked issue from the entries' keys.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanupJobs } from './support/action-runner.js'
import { createKugetsuWorld, createOpencodeShim, type KugetsuWorld } from './support/action-e2e.js'
import { startModelServer, type ModelServer } from './support/model-server.js'

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

  test('prune and destroy say clearly that they are not in this version', async () => {
    const run = await world.run({
      event: { name: 'workflow_dispatch', payload: { inputs: {} } },
      inputs: { command: 'prune' }
    })
    expect(run.result.exitCode).not.toBe(0)
    expect(run.result.stdout).toMatch(/::error::command prune is not available in this version/)
    expect(run.comments).toHaveLength(0)
  }, 60_000)
})
