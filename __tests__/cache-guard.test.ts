/**
 * Restores through kugetsu's cache client, with the real @actions/cache against the cache service
 * stand-in: entries planted by someone who can write the repository's caches are refused before
 * anything is written (outside the restored dir or not), and good entries still restore.
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  jest,
  test
} from '@jest/globals'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CacheEntryRefused,
  CacheRestoreError,
  createActionsCacheClient,
  type CacheClient
} from '../src/action/cache/cache-state.js'
import { startCacheServer, type CacheProtocol, type CacheServer } from './support/cache-server.js'
import { tarArchive, zstdCompressed, type TarSpec } from './support/tar-build.js'
import { buildTarGuard } from './support/tar-guard-build.js'

const savedEnv = { ...process.env }
const scratch = mkdtempSync(join(tmpdir(), 'kugetsu-cache-guard-'))
const guardScript = buildTarGuard(join(scratch, 'guard'))

afterAll(() => {
  process.env = { ...savedEnv }
  rmSync(scratch, { recursive: true, force: true })
})

describe.each<CacheProtocol>(['v2', 'v1'])('planted cache entries, protocol %s', (protocol) => {
  let server: CacheServer
  let root: string
  let outside: string
  let client: CacheClient
  let out: string
  let spy: ReturnType<typeof jest.spyOn>
  const issueDir = () => join(root, 'issues', '7')

  beforeAll(async () => {
    server = await startCacheServer({ protocol })
    const base = mkdtempSync(join(scratch, `${protocol}-`))
    root = join(base, 'state')
    outside = join(base, 'outside')
    for (const dir of [root, outside, join(base, 'temp')]) mkdirSync(dir, { recursive: true })
    Object.assign(process.env, server.envFor(protocol), {
      RUNNER_TEMP: join(base, 'temp'),
      GITHUB_SERVER_URL: 'https://github.com',
      ACTIONS_CACHE_MODE: '',
      RUNNER_DEBUG: ''
    })
    client = createActionsCacheClient(root, () => import('@actions/cache'), {
      guardScript,
      maxBytes: 1024 * 1024
    })
  })
  afterAll(() => server.close())
  beforeEach(() => {
    out = ''
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      out += String(chunk)
      return true
    })
  })
  afterEach(() => spy.mockRestore())

  let version = ''
  test('a good entry saves and restores through the guard', async () => {
    mkdirSync(issueDir(), { recursive: true })
    writeFileSync(join(issueDir(), 'session.json'), '{"id":"ses_good"}')
    expect(await client.save(issueDir(), 'kv1-issue-7-1-1')).toBe(true)
    version = server.store.committed[0].version
    rmSync(issueDir(), { recursive: true })
    expect(await client.restore(issueDir(), 'kv1-issue-7-')).toBe('kv1-issue-7-1-1')
    expect(readFileSync(join(issueDir(), 'session.json'), 'utf8')).toBe('{"id":"ses_good"}')
  })

  const planted: [string, (outside: string) => TarSpec[]][] = [
    ['a ../ member', () => [{ path: `issues/7/../../outside/dotdot`, data: 'pwned' }]],
    ['an absolute member', (o) => [{ path: join(o, 'absolute'), data: 'pwned' }]],
    [
      'an escaping symlink and a write through it',
      () => [
        { path: 'issues/7/link', type: '2', linkpath: '../../../outside' },
        { path: 'issues/7/link/through-link', data: 'pwned' }
      ]
    ],
    ['a member of another issue', () => [{ path: 'issues/8/session.json', data: '{}' }]],
    ['an oversized archive', () => [{ path: 'issues/7/big', data: 'x'.repeat(2 * 1024 * 1024) }]]
  ]

  test.each(planted)(
    '%s is refused, nothing is written, the error names the entry',
    async (_, specs) => {
      const key = `kv1-issue-7-666-1-${Math.random().toString(36).slice(2, 8)}`
      const entry = server.store.seed({
        key,
        version,
        archive: zstdCompressed(tarArchive(specs(outside))),
        createdAt: new Date(Date.now() + 60_000)
      })
      rmSync(issueDir(), { recursive: true, force: true })
      const error = await client.restore(issueDir(), 'kv1-issue-7-').catch((e: unknown) => e)
      server.store.delete(entry.id)
      expect(error).toBeInstanceOf(CacheEntryRefused)
      expect(error).not.toBeInstanceOf(CacheRestoreError)
      expect((error as CacheEntryRefused).key).toBe(key)
      expect((error as CacheEntryRefused).message).toMatch(
        /^the cache entry kv1-issue-7-666-1-\w+ was refused: /
      )
      expect(existsSync(issueDir())).toBe(false)
      expect(existsSync(join(root, 'issues', '8'))).toBe(false)
      for (const name of ['dotdot', 'absolute', 'through-link']) {
        expect(existsSync(join(outside, name))).toBe(false)
      }
      expect(out).toMatch(/Failed to restore/)
    }
  )

  test('with the planted entry gone, the good one restores again; PATH is left as it was', async () => {
    const path = process.env.PATH
    expect(await client.restore(issueDir(), 'kv1-issue-7-')).toBe('kv1-issue-7-1-1')
    expect(readFileSync(join(issueDir(), 'session.json'), 'utf8')).toBe('{"id":"ses_good"}')
    expect(process.env.PATH).toBe(path)
  })

  test('a damaged archive is a restore failure, not a refusal', async () => {
    const entry = server.store.seed({
      key: 'kv1-issue-7-777-1',
      version,
      archive: Buffer.from('not an archive at all'),
      createdAt: new Date(Date.now() + 60_000)
    })
    const error = await client.restore(issueDir(), 'kv1-issue-7-').catch((e: unknown) => e)
    server.store.delete(entry.id)
    expect(error).toBeInstanceOf(CacheRestoreError)
  })
})
