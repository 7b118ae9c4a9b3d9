/**
 * Entries planted in the Actions cache by someone who can write it (a pull-request run, a leaked
 * runtime token), end to end through the bundled action: nothing they hold is written outside the
 * dir kugetsu restores into, nothing they hold is ever run, and the run says which entry to delete.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupJobs } from './support/action-runner.js'
import { createTestBed, errorsOf, issueMaker, type TestBed } from './support/action-e2e.js'
import { readArchive, type CacheEntry } from './support/cache-server.js'
import { tarArchive, zstdCompressed } from './support/tar-build.js'
import { gzipSync } from 'node:zlib'
import { OPENCODE_VERSION } from '../src/opencode/version.js'

const REPO = 'octo-org/octo-repo'
const PREFIX = 'kugetsu-v1'
let bed: TestBed
let outside: string

beforeAll(async () => {
  bed = await createTestBed({
    script: () => undefined,
    repo: REPO,
    firstRunId: 7000,
    writers: ['alice']
  })
  outside = join(bed.scratch, 'outside')
  mkdirSync(outside, { recursive: true })
})

afterAll(async () => {
  await bed?.close()
  cleanupJobs()
})

const { newIssue, commentOn: comment } = issueMaker(() => bed.world, REPO, 40)
/**
 * The version @actions/cache gives an entry of `path`: it hashes the compression method too, which
 * depends on the zstd at hand, so it is learnt from the first entry a run saved.
 */
let compression = ''
const versionOf = (path: string, method: string) =>
  createHash('sha256').update([path, method, '1.0'].join('|')).digest('hex')
const cacheVersion = (path: string) => versionOf(path, compression)
function learnCompression(entry: CacheEntry, path: string): void {
  const method = ['zstd', 'zstd-without-long', 'gzip'].find(
    (m) => versionOf(path, m) === entry.version
  )
  if (!method) throw new Error(`no compression method gives ${entry.version}`)
  compression = method
}

const markers = () => ['dotdot', 'absolute', 'through-link', 'ran'].map((n) => join(outside, n))
const up = '../'.repeat(30)

describe('a planted issue-state entry', () => {
  test('is refused before anything is written; the issue keeps its session', async () => {
    const issue = newIssue()
    const first = await bed.world.run({ event: comment(issue, '/kugetsu remember MANGO') })
    expect(first.result.exitCode).toBe(0)
    const good = first.saved.find((e) => e.key.startsWith(`${PREFIX}-issue-${issue.number}-`))
    if (!good) throw new Error('no issue entry')
    const dir = readArchive(good)[0].path.replace(/\/$/, '')
    learnCompression(good, dir)

    const key = `${PREFIX}-issue-${issue.number}-9999-1-t9-ses_planted`
    const planted = bed.world.cache.store.seed({
      key,
      version: good.version,
      createdAt: new Date(Date.now() + 60_000),
      archive: zstdCompressed(
        tarArchive([
          { path: `${dir}/session.json`, data: '{}' },
          { path: `${dir}/${up}${outside.slice(1)}/dotdot`, data: 'pwned', pax: true },
          { path: join(outside, 'absolute'), data: 'pwned' },
          { path: `${dir}/link`, type: '2', linkpath: `${up}${outside.slice(1)}`, pax: true },
          { path: `${dir}/link/through-link`, data: 'pwned' }
        ])
      )
    })
    const run = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
    expect(run.result.exitCode).toBe(1)
    const ref = `github.com/${REPO}#${issue.number}`
    expect(errorsOf(run)).toEqual([
      `the newest Actions cache entry of ${ref} (${key}) was refused before anything was extracted: member "${dir}/${up}${outside.slice(1)}/dotdot" contains "..". kugetsu never writes such an entry: someone who can write this repository's caches planted it. ${ref} keeps its session; delete that entry (gh cache delete ${key}) and run again`
    ])
    for (const marker of markers()) expect(existsSync(marker)).toBe(false)
    expect(run.saved).toEqual([])
    expect(run.model.filter((r) => r.kind === 'chat')).toEqual([])
    expect(bed.world.cache.store.committed.map((e) => e.key)).toContain(good.key)

    // With the planted entry deleted, the issue goes on from its session.
    bed.world.cache.store.delete(planted.id)
    const next = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
    expect(next.result.exitCode).toBe(0)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'state-restored': 'true',
      'session-id': first.outputs['session-id']
    })
  }, 240_000)
})

describe('a planted entry with a tombstone’s key', () => {
  test('is only what kugetsu’s own checks allow: an escaping archive or a bad record forgets nothing', async () => {
    const issue = newIssue()
    const first = await bed.world.run({ event: comment(issue, '/kugetsu remember LYCHEE') })
    expect(first.result.exitCode).toBe(0)
    const good = first.saved.find((e) => e.key.startsWith(`${PREFIX}-issue-${issue.number}-`))
    if (!good) throw new Error('no issue entry')
    const dir = readArchive(good)[0].path.replace(/\/$/, '')
    learnCompression(good, dir)
    const ref = `github.com/${REPO}#${issue.number}`
    const key = `${PREFIX}-issue-${issue.number}-9999-1-forgotten`
    const plant = (members: Parameters<typeof tarArchive>[0]) =>
      bed.world.cache.store.seed({
        key,
        version: good.version,
        createdAt: new Date(Date.now() + 60_000),
        archive: zstdCompressed(tarArchive(members))
      })
    const tombstone = (change: Record<string, unknown>) =>
      JSON.stringify({
        ref,
        sessionId: null,
        baseSessionId: '',
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        turns: 0,
        forgotten: { at: new Date().toISOString(), by: 'mallory', reason: 'destroy' },
        ...change
      })

    // An archive that escapes: refused by the tar guard before anything is extracted.
    const escaping = plant([
      { path: `${dir}/record.json`, data: tombstone({}) },
      { path: `${dir}/${up}${outside.slice(1)}/dotdot`, data: 'pwned', pax: true }
    ])
    const refused = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
    bed.world.cache.store.delete(escaping.id)
    expect(refused.result.exitCode).toBe(1)
    expect(errorsOf(refused)).toEqual([
      expect.stringContaining(
        `the newest Actions cache entry of ${ref} (${key}) was refused before anything was extracted`
      )
    ])
    expect(existsSync(join(outside, 'dotdot'))).toBe(false)

    // A record that passes for a tombstone only by its key: refused, nothing started over.
    for (const record of [
      tombstone({ forgotten: { at: new Date().toISOString(), by: 'mallory', reason: 'pwned' } }),
      tombstone({ sessionId: 'ses_planted' }),
      tombstone({ ref: `github.com/${REPO}#1` })
    ]) {
      const planted = plant([{ path: `${dir}/record.json`, data: record }])
      const run = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
      bed.world.cache.store.delete(planted.id)
      expect(run.result.exitCode).toBe(1)
      expect(errorsOf(run)).toEqual([
        expect.stringContaining(
          `the newest Actions cache entry of ${ref} (${key}) is a tombstone kugetsu cannot read`
        )
      ])
      expect(run.saved).toEqual([])
      expect(run.model.filter((r) => r.kind === 'chat')).toEqual([])
    }

    // Nothing was lost: with the planted entries gone, the issue goes on from its session.
    const next = await bed.world.run({ event: comment(issue, '/kugetsu what was the word?') })
    expect(next.result.exitCode).toBe(0)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'session-id': first.outputs['session-id']
    })
  }, 300_000)
})

describe('a planted opencode tool entry', () => {
  const platform = `opencode-${process.platform}-${process.arch}`
  const stream = `kugetsu-opencode-${OPENCODE_VERSION}-${process.platform}-${process.arch}-`
  const tarballs = `opencode-ai/${OPENCODE_VERSION}/npm-pack`
  /** What a run gets without any opencode of its own: nothing on PATH, an empty tool cache. */
  const bareEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', KUGETSU_OPENCODE_BIN: undefined }
  const evil = () => `#!/bin/sh\ntouch ${join(outside, 'ran')}\necho ${OPENCODE_VERSION}\n`

  function plant(
    name: string,
    members: Parameters<typeof tarArchive>[0],
    path = tarballs
  ): CacheEntry {
    return bed.world.cache.store.seed({
      key: `${stream}${name}`,
      version: cacheVersion(path),
      createdAt: new Date(Date.now() + 60_000),
      archive: zstdCompressed(tarArchive(members))
    })
  }

  test('holding a tarball that is not npm’s: never unpacked or run', async () => {
    const tgz = gzipSync(
      tarArchive([
        { path: 'package/bin/opencode', data: evil(), mode: 0o755 },
        {
          path: 'package/package.json',
          data: JSON.stringify({ name: platform, version: OPENCODE_VERSION })
        }
      ])
    )
    const entry = plant('666-1', [
      { path: `${tarballs}/`, type: '5' },
      { path: `${tarballs}/${platform}-${OPENCODE_VERSION}.tgz`, data: tgz }
    ])
    const run = await bed.world.run({ event: comment(newIssue(), '/kugetsu hello'), env: bareEnv })
    bed.world.cache.store.delete(entry.id)
    expect(run.result.exitCode).toBe(1)
    expect(errorsOf(run)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the Actions cache entry ${entry.key}: ${platform}-${OPENCODE_VERSION.replace(/\./g, '\\.')}\\.tgz is not ${platform}@.* as published .*; it was not unpacked or run\\. kugetsu never saves such an entry: .* Delete it \\(gh cache delete ${entry.key}\\) and run again$`
        )
      )
    ])
    expect(existsSync(join(outside, 'ran'))).toBe(false)
    expect(run.opencode).toEqual([])
  }, 120_000)

  test('holding a binary laid out as an install (the old layout): refused before extraction', async () => {
    const install = `opencode-ai/${OPENCODE_VERSION}`
    const entry = plant('667-1', [
      { path: `${install}/node_modules/${platform}/bin/opencode`, data: evil(), mode: 0o755 },
      {
        path: `${install}/kugetsu-opencode.json`,
        data: JSON.stringify({ binary: 'x', version: OPENCODE_VERSION })
      }
    ])
    const run = await bed.world.run({ event: comment(newIssue(), '/kugetsu hello'), env: bareEnv })
    bed.world.cache.store.delete(entry.id)
    expect(run.result.exitCode).toBe(1)
    expect(errorsOf(run)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the Actions cache entry ${entry.key} of opencode ${OPENCODE_VERSION.replace(/\./g, '\\.')} was refused before anything was extracted \\(member ".*" is outside ".*npm-pack"\\); nothing of it was run\\.`
        )
      )
    ])
    expect(existsSync(join(outside, 'ran'))).toBe(false)
    expect(run.opencode).toEqual([])
  }, 120_000)
})
