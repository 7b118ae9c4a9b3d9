/**
 * Proves the loopback stand-ins behave like the services they replace, using the real client
 * libraries: @actions/cache 6 (both cache protocols), octokit from @actions/github, the Azure blob
 * SDK, and child processes launched the way the runner launches a node action.
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
import { pathToFileURL } from 'node:url'
import type { components, operations } from '@octokit/openapi-types'
import {
  archiveFiles,
  CacheStore,
  readArchive,
  startCacheServer,
  type CacheProtocol,
  type CacheServer
} from './support/cache-server.js'
import {
  ACTIONS_BOT,
  MAX_COMMENT_LENGTH,
  startGitHubApi,
  type GitHubApi
} from './support/github-api.js'
import {
  cleanupJobs,
  createJob,
  inputEnvName,
  parseKeyValueFile,
  REPO_ROOT,
  runAction,
  runPost
} from './support/action-runner.js'

/** GitHub's OpenAPI description of the caches REST API, as octokit's types carry it. */
type CacheListEntry = components['schemas']['actions-cache-list']['actions_caches'][number]
type CacheListQuery = NonNullable<
  operations['actions/get-actions-cache-list']['parameters']['query']
>
type CacheDeleteQuery = operations['actions/delete-actions-cache-by-key']['parameters']['query']
/** Every field of a listed cache entry, no more (the type check keeps it in step with the spec). */
const CACHE_ENTRY_FIELDS = {
  id: true,
  ref: true,
  key: true,
  version: true,
  last_accessed_at: true,
  created_at: true,
  size_in_bytes: true
} satisfies Record<keyof CacheListEntry, true>

type CacheModule = typeof import('@actions/cache')
type GitHubModule = typeof import('@actions/github')

const savedEnv = { ...process.env }
const scratch = mkdtempSync(join(tmpdir(), 'kugetsu-stand-ins-'))

afterAll(() => {
  cleanupJobs()
  rmSync(scratch, { recursive: true, force: true })
})

/** Captures what @actions/core prints in-process (and keeps it out of the test output). */
function captureStdout(): { text: () => string; restore: () => void } {
  let out = ''
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    out += String(chunk)
    return true
  })
  return { text: () => out, restore: () => spy.mockRestore() }
}

/** A workspace for in-process @actions/cache calls; env is set at call time, which it reads. */
function cacheEnvironment(
  server: CacheServer,
  protocol: CacheProtocol
): { workspace: string; data: string } {
  const root = mkdtempSync(join(scratch, `${protocol}-`))
  const workspace = join(root, 'workspace')
  const temp = join(root, 'temp')
  mkdirSync(workspace, { recursive: true })
  mkdirSync(temp, { recursive: true })
  Object.assign(process.env, server.envFor(protocol), {
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: temp,
    GITHUB_SERVER_URL: 'https://github.com',
    ACTIONS_CACHE_MODE: '',
    RUNNER_DEBUG: ''
  })
  return { workspace, data: join(workspace, 'sessions') }
}

function writeData(dir: string, files: Record<string, string>): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
}

function readData(dir: string, name: string): string | undefined {
  const file = join(dir, name)
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined
}

describe.each<CacheProtocol>(['v1', 'v2'])(
  'cache service stand-in, protocol %s, real @actions/cache',
  (protocol) => {
    let server: CacheServer
    let cache: CacheModule
    let data: string
    let out: ReturnType<typeof captureStdout>

    beforeAll(async () => {
      server = await startCacheServer({ protocol })
      cache = await import('@actions/cache')
    })
    afterAll(async () => {
      await server.close()
      process.env = { ...savedEnv }
    })
    beforeEach(() => {
      ;({ data } = cacheEnvironment(server, protocol))
      out = captureStdout()
    })
    afterEach(() => out.restore())

    const save = async (key: string, files: Record<string, string>): Promise<number> => {
      writeData(data, files)
      return cache.saveCache([data], key)
    }
    const restore = async (key: string, restoreKeys?: string[]): Promise<string | undefined> => {
      rmSync(data, { recursive: true, force: true })
      return cache.restoreCache([data], key, restoreKeys)
    }

    test('speaks the selected protocol and round-trips an archive by exact key', async () => {
      const id = await save('exact-1', { 'session.json': '{"id":"ses_1"}' })
      expect(id).toBeGreaterThan(0)
      const kinds = server.requests
        .filter((r) => r.status !== undefined)
        .map((r) => `${r.protocol}:${r.kind}`)
      expect(kinds).toEqual(
        protocol === 'v1'
          ? ['v1:reserve', 'v1:upload', 'v1:commit']
          : ['v2:reserve', 'blob:upload', 'v2:commit']
      )
      const entry = server.store.get(id)
      expect(entry).toMatchObject({ key: 'exact-1', committed: true, protocol })
      // zstd when it is on PATH (as on ubuntu runners), gzip otherwise.
      expect(['zstd', 'gzip']).toContain(entry?.compression)
      expect(entry?.version).toMatch(/^[0-9a-f]{64}$/)
      // Paths are stored relative to GITHUB_WORKSPACE.
      expect(archiveFiles(entry!)).toEqual({ 'sessions/session.json': '{"id":"ses_1"}' })

      expect(await restore('exact-1')).toBe('exact-1')
      expect(readData(data, 'session.json')).toBe('{"id":"ses_1"}')
      expect(server.requests.at(-1)?.kind).toBe('download')
    })

    test('restore keys match as prefixes, newest first, and issue-7- never matches issue-70-', async () => {
      await save('issue-7-1', { 'n.txt': 'seven one' })
      await save('issue-7-2', { 'n.txt': 'seven two' })
      await save('issue-70-1', { 'n.txt': 'seventy' })

      expect(await restore('issue-7-missing', ['issue-7-'])).toBe('issue-7-2')
      expect(readData(data, 'n.txt')).toBe('seven two')
      expect(await restore('issue-70-missing', ['issue-70-'])).toBe('issue-70-1')
      expect(await restore('issue-8-missing', ['issue-8-'])).toBeUndefined()
      expect(readData(data, 'n.txt')).toBeUndefined()

      // GitHub also prefix-matches the primary key when it has no exact match.
      expect(await restore('issue-7-')).toBe('issue-7-2')
      // An exact match wins over newer entries it is a prefix of.
      await save('issue-7-1-later', { 'n.txt': 'later' })
      expect(await restore('issue-7-1')).toBe('issue-7-1')
      expect(readData(data, 'n.txt')).toBe('seven one')
    })

    test('entries are immutable: saving an existing key returns -1 and keeps the original', async () => {
      const first = await save('immutable-1', { 'v.txt': 'original' })
      expect(first).toBeGreaterThan(0)
      const count = server.store.entries.length
      out.restore()
      out = captureStdout()

      expect(await save('immutable-1', { 'v.txt': 'replacement' })).toBe(-1)
      expect(server.store.entries.length).toBe(count)
      // Logged with core.info, not as a warning annotation.
      expect(out.text()).toContain('Failed to save: Unable to reserve cache with key immutable-1')
      expect(out.text()).not.toContain('::warning::')
      expect(archiveFiles(server.store.get(first)!)).toEqual({ 'sessions/v.txt': 'original' })
      expect(await restore('immutable-1')).toBe('immutable-1')
      expect(readData(data, 'v.txt')).toBe('original')
    })

    test('the version must match: other paths miss the entry', async () => {
      await save('versioned-1', { 'a.txt': 'a' })
      const other = join(data, '..', 'elsewhere')
      expect(await cache.restoreCache([other], 'versioned-1')).toBeUndefined()
      expect(await restore('versioned-1')).toBe('versioned-1')
    })

    test('lookupOnly reports the key without downloading', async () => {
      await save('lookup-1', { 'a.txt': 'a' })
      const before = server.requests.length
      expect(await cache.restoreCache([data], 'lookup-', [], { lookupOnly: true })).toBe('lookup-1')
      expect(server.requests.slice(before).map((r) => r.kind)).toEqual(['lookup'])
    })

    test('denied writes and reads are swallowed as warnings', async () => {
      server.denyWrites = true
      try {
        expect(await save('denied-1', { 'a.txt': 'a' })).toBe(-1)
        expect(out.text()).toContain(
          '::warning::Failed to save: Unable to reserve cache with key denied-1'
        )
        expect(out.text()).toContain('cache write denied:')
      } finally {
        server.denyWrites = false
      }
      await save('denied-2', { 'a.txt': 'a' })
      server.denyReads = true
      try {
        expect(await restore('denied-2')).toBeUndefined()
        expect(out.text()).toContain('::warning::Failed to restore:')
        expect(out.text()).toContain('cache read denied:')
      } finally {
        server.denyReads = false
      }
    })
  }
)

describe('cache service stand-in, failures and flavours', () => {
  let cache: CacheModule
  const servers: CacheServer[] = []
  let out: ReturnType<typeof captureStdout>

  beforeAll(async () => {
    cache = await import('@actions/cache')
  })
  beforeEach(() => {
    out = captureStdout()
  })
  afterEach(() => out.restore())
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
    process.env = { ...savedEnv }
  })
  const start = async (...args: Parameters<typeof startCacheServer>): Promise<CacheServer> => {
    const server = await startCacheServer(...args)
    servers.push(server)
    return server
  }

  test('injected v1 lookup 500 makes restoreCache report a miss with a warning', async () => {
    const server = await start({ protocol: 'v1' })
    const { data } = cacheEnvironment(server, 'v1')
    writeData(data, { 'a.txt': 'a' })
    expect(await cache.saveCache([data], 'fault-1')).toBeGreaterThan(0)

    server.failNext('lookup', { status: 500 })
    // v1 retries only 502/503/504 (5 s apart); a 500 fails at once. The retry wrapper rethrows a
    // plain Error, so it is a warning, not the ::error:: kept for HttpClientError 5xx.
    expect(await cache.restoreCache([data], 'fault-1')).toBeUndefined()
    expect(out.text()).toContain(
      '::warning::Failed to restore: getCacheEntry failed: Cache service responded with 500'
    )
    expect(server.requests.filter((r) => r.fault)).toHaveLength(1)
    expect(await cache.restoreCache([data], 'fault-1')).toBe('fault-1')
  })

  test('injected v2 finalize failure makes saveCache return -1 with a warning', async () => {
    const server = await start({ protocol: 'v2' })
    const { data } = cacheEnvironment(server, 'v2')
    writeData(data, { 'a.txt': 'a' })
    // 4xx: twirp does not retry (5xx would be retried 5 times, 3 s apart and growing).
    server.failNext('commit', { status: 400 })
    expect(await cache.saveCache([data], 'fault-2')).toBe(-1)
    expect(out.text()).toContain(
      '::warning::Failed to save: Failed to FinalizeCacheEntryUpload: Received non-retryable error: Failed request: (400) Bad Request: injected failure'
    )
    expect(server.store.committed).toHaveLength(0)
  })

  test('lowercaseKeys mimics Gitea/Forgejo: keys are lowercased, the matched key comes back lowercased', async () => {
    const server = await start({ protocol: 'v1', lowercaseKeys: true, allowDuplicateKeys: true })
    const { data } = cacheEnvironment(server, 'v1')
    writeData(data, { 'a.txt': 'first' })
    expect(await cache.saveCache([data], 'Issue-7-ABC')).toBeGreaterThan(0)
    expect(server.store.committed.map((e) => e.key)).toEqual(['issue-7-abc'])

    rmSync(data, { recursive: true })
    expect(await cache.restoreCache([data], 'ISSUE-7-abc')).toBe('issue-7-abc')
    expect(readData(data, 'a.txt')).toBe('first')

    // act's cache server accepts the same key again; the newest entry wins.
    writeData(data, { 'a.txt': 'second' })
    expect(await cache.saveCache([data], 'issue-7-ABC')).toBeGreaterThan(0)
    rmSync(data, { recursive: true })
    expect(await cache.restoreCache([data], 'issue-7-abc')).toBe('issue-7-abc')
    expect(readData(data, 'a.txt')).toBe('second')
  })

  test('a GHES-like GITHUB_SERVER_URL forces v1 even with the v2 environment', async () => {
    const server = await start({ protocol: 'v2' })
    const { data } = cacheEnvironment(server, 'v2')
    process.env.GITHUB_SERVER_URL = 'https://ghes.example.com'
    writeData(data, { 'a.txt': 'a' })
    expect(await cache.saveCache([data], 'ghes-1')).toBeGreaterThan(0)
    // v1 falls back to ACTIONS_RESULTS_URL when ACTIONS_CACHE_URL is empty.
    expect(server.requests.map((r) => r.protocol)).toEqual(['v1', 'v1', 'v1'])
  })

  test('scopes: the current ref is searched first, then the default branch', () => {
    const store = new CacheStore({ ref: 'refs/heads/feature', defaultBranchRef: 'refs/heads/main' })
    const main = store.seed({ key: 'k-main', version: 'v', ref: 'refs/heads/main' })
    const feature = store.seed({ key: 'k-feature', version: 'v' })
    expect(store.find(['k-'], 'v')).toBe(feature)
    expect(store.find(['k-main'], 'v')).toBe(main)
    expect(store.find(['k-feature'], 'v', 'refs/heads/main')).toBeUndefined()
    expect(store.find(['k-'], 'other-version')).toBeUndefined()
  })

  test('blob endpoint accepts the Azure SDK block upload used for archives over 128 MiB', async () => {
    const server = await start({ protocol: 'v2' })
    const twirp = async (method: string, body: object): Promise<Record<string, string>> => {
      const res = await fetch(
        `${server.url}/twirp/github.actions.results.api.v1.CacheService/${method}`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body)
        }
      )
      return (await res.json()) as Record<string, string>
    }
    const created = await twirp('CreateCacheEntry', { key: 'blocks-1', version: 'v' })
    const { BlockBlobClient } = await import('@azure/storage-blob')
    const payload = Buffer.from('0123456789'.repeat(500))
    await new BlockBlobClient(created.signed_upload_url).uploadData(payload, {
      blockSize: 1024,
      maxSingleShotSize: 1024,
      concurrency: 3
    })
    expect(server.requests.filter((r) => r.kind === 'upload').length).toBe(6) // 5 blocks + list
    const finalized = await twirp('FinalizeCacheEntryUpload', {
      key: 'blocks-1',
      version: 'v',
      size_bytes: '5000'
    })
    expect(finalized).toMatchObject({ ok: true })
    const found = await twirp('GetCacheEntryDownloadURL', { key: 'blocks-', version: 'v' })
    expect(found.matched_key).toBe('blocks-1')
    const downloaded = Buffer.from(await (await fetch(found.signed_download_url)).arrayBuffer())
    expect(downloaded.equals(payload)).toBe(true)
    // A tampered signature is refused like Azure does.
    const tampered = found.signed_download_url.replace(/sig=[^&]+/, 'sig=forged')
    expect((await fetch(tampered)).status).toBe(403)
    // Creating the same key+version again is a twirp already_exists.
    const again = await fetch(
      `${server.url}/twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'blocks-1', version: 'v' })
      }
    )
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ code: 'already_exists' })
  })

  test('requests without the runtime token are refused', async () => {
    const server = await start({ protocol: 'v1' })
    const res = await fetch(
      `${server.env.ACTIONS_CACHE_URL}_apis/artifactcache/cache?keys=a&version=b`
    )
    expect(res.status).toBe(401)
  })
})

describe('GitHub REST stand-in with octokit from @actions/github', () => {
  let gh: GitHubApi
  let cacheServer: CacheServer
  let github: GitHubModule
  let octokit: ReturnType<GitHubModule['getOctokit']>
  const repo = { owner: 'octo-org', repo: 'octo-repo' }

  beforeAll(async () => {
    cacheServer = await startCacheServer({ protocol: 'v2' })
    gh = await startGitHubApi({ cacheStore: cacheServer.store, repos: ['octo-org/octo-repo'] })
    // @actions/github reads GITHUB_API_URL when it is first imported.
    process.env.GITHUB_API_URL = gh.url
    github = await import('@actions/github')
    octokit = github.getOctokit(gh.token)
    gh.state.addIssue('octo-org/octo-repo', {
      number: 7,
      title: 'Make it faster',
      body: 'please',
      user: 'alice'
    })
  })
  afterAll(async () => {
    await Promise.all([gh.close(), cacheServer.close()])
    process.env = { ...savedEnv }
  })

  test('getOctokit uses GITHUB_API_URL and sends the token', async () => {
    const { data } = await octokit.rest.issues.get({ ...repo, issue_number: 7 })
    expect(data).toMatchObject({
      number: 7,
      title: 'Make it faster',
      state: 'open',
      user: { login: 'alice', type: 'User' },
      html_url: 'https://github.com/octo-org/octo-repo/issues/7',
      author_association: 'NONE'
    })
    expect(gh.requests.at(-1)?.authorization).toBe(`token ${gh.token}`)
    const missing = await octokit.rest.issues
      .get({ ...repo, issue_number: 999 })
      .catch((e: { status: number }) => e)
    expect(missing).toMatchObject({ status: 404 })
  })

  test('comments: create, get, update, and reactions', async () => {
    const created = await octokit.rest.issues.createComment({
      ...repo,
      issue_number: 7,
      body: 'Working on it'
    })
    expect(created.status).toBe(201)
    expect(created.data).toMatchObject({
      body: 'Working on it',
      user: { login: ACTIONS_BOT.login, id: ACTIONS_BOT.id, type: 'Bot' },
      html_url: `https://github.com/octo-org/octo-repo/issues/7#issuecomment-${created.data.id}`
    })
    const updated = await octokit.rest.issues.updateComment({
      ...repo,
      comment_id: created.data.id,
      body: 'Done'
    })
    expect(updated.data.body).toBe('Done')
    const fetched = await octokit.rest.issues.getComment({ ...repo, comment_id: created.data.id })
    expect(fetched.data.body).toBe('Done')
    expect(gh.state.comments.get(created.data.id)?.body).toBe('Done')

    const eyes = await octokit.rest.reactions.createForIssueComment({
      ...repo,
      comment_id: created.data.id,
      content: 'eyes'
    })
    expect(eyes.status).toBe(201)
    const again = await octokit.rest.reactions.createForIssueComment({
      ...repo,
      comment_id: created.data.id,
      content: 'eyes'
    })
    expect(again.status).toBe(200)
    expect(again.data.id).toBe(eyes.data.id)
    const withReactions = await octokit.rest.issues.getComment({
      ...repo,
      comment_id: created.data.id
    })
    expect(withReactions.data.reactions).toMatchObject({ total_count: 1, eyes: 1 })
  })

  test('comment bodies over 65536 characters are rejected with 422', async () => {
    const error = await octokit.rest.issues
      .createComment({ ...repo, issue_number: 7, body: 'x'.repeat(MAX_COMMENT_LENGTH + 1) })
      .catch((e: { status: number; message: string }) => e)
    expect(error).toMatchObject({ status: 422 })
    expect((error as { message: string }).message).toContain('body is too long')
  })

  test('comment lists paginate with Link headers', async () => {
    gh.state.addIssue('octo-org/octo-repo', { number: 8 })
    for (let i = 0; i < 75; i++)
      gh.state.addComment('octo-org/octo-repo', 8, { body: `c${i}`, user: 'bob' })
    const first = await octokit.rest.issues.listComments({ ...repo, issue_number: 8, per_page: 30 })
    expect(first.data).toHaveLength(30)
    expect(first.headers.link).toContain(
      `<${gh.url}/repos/octo-org/octo-repo/issues/8/comments?per_page=30&page=2>; rel="next"`
    )
    expect(first.headers.link).toContain('page=3>; rel="last"')
    const before = gh.requests.length
    const all = await octokit.paginate(octokit.rest.issues.listComments, {
      ...repo,
      issue_number: 8,
      per_page: 30
    })
    expect(all.map((c) => c.body)).toEqual(Array.from({ length: 75 }, (_, i) => `c${i}`))
    expect(gh.requests.length - before).toBe(3)
  })

  test('collaborator permission, as GitHub reports it', async () => {
    gh.state.setPermission('octo-org/octo-repo', 'bob', 'write')
    gh.state.setPermission('octo-org/octo-repo', 'mallory', 'maintain')
    gh.state.addUser('eve')
    const perm = async (username: string): Promise<unknown> =>
      octokit.rest.repos
        .getCollaboratorPermissionLevel({ ...repo, username })
        .then((r) => ({
          permission: r.data.permission,
          role_name: r.data.role_name,
          login: r.data.user?.login
        }))
        .catch((e: { status: number }) => ({ status: e.status }))
    expect(await perm('octo-org')).toEqual({
      permission: 'admin',
      role_name: 'admin',
      login: 'octo-org'
    })
    expect(await perm('bob')).toEqual({ permission: 'write', role_name: 'write', login: 'bob' })
    expect(await perm('mallory')).toEqual({
      permission: 'write',
      role_name: 'maintain',
      login: 'mallory'
    })
    // An existing non-collaborator reads a public repository.
    expect(await perm('eve')).toEqual({ permission: 'read', role_name: 'read', login: 'eve' })
    expect(await perm('nobody-at-all')).toEqual({ status: 404 })
    expect(await perm(ACTIONS_BOT.login)).toEqual({ status: 404 })

    gh.state.addRepo('octo-org/secret', { private: true })
    const secret = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner: 'octo-org',
      repo: 'secret',
      username: 'eve'
    })
    expect(secret.data.permission).toBe('none')
    const info = await octokit.rest.repos.get({ owner: 'octo-org', repo: 'secret' })
    expect(info.data).toMatchObject({
      private: true,
      visibility: 'private',
      full_name: 'octo-org/secret'
    })
  })

  test('GET /user is 403 for the workflow token; no token is 401', async () => {
    const error = await octokit.rest.users
      .getAuthenticated()
      .catch((e: { status: number; message: string }) => e)
    expect(error).toMatchObject({ status: 403 })
    expect((error as { message: string }).message).toContain(
      'Resource not accessible by integration'
    )
    const anonymous = await fetch(`${gh.url}/repos/octo-org/octo-repo/issues/7`)
    expect(anonymous.status).toBe(401)
  })

  test('actions caches REST API over the cache service store', async () => {
    const out = captureStdout()
    try {
      const { data } = cacheEnvironment(cacheServer, 'v2')
      const cache = await import('@actions/cache')
      for (const key of ['issue-7-1', 'issue-7-2', 'issue-70-1']) {
        writeData(data, { 'k.txt': key })
        expect(await cache.saveCache([data], key)).toBeGreaterThan(0)
      }
    } finally {
      out.restore()
    }
    const list = await octokit.rest.actions.getActionsCacheList({ ...repo, key: 'issue-7-' })
    expect(list.data.total_count).toBe(2)
    expect(list.data.actions_caches.map((c) => c.key)).toEqual(['issue-7-2', 'issue-7-1'])
    expect(list.data.actions_caches[0]).toMatchObject({
      ref: 'refs/heads/main',
      size_in_bytes: expect.any(Number)
    })
    // The key filter is a prefix: issue-7 also lists issue-70-*.
    const wide = await octokit.rest.actions.getActionsCacheList({
      ...repo,
      key: 'issue-7',
      per_page: 2
    })
    expect(wide.data.total_count).toBe(3)
    expect(wide.data.actions_caches).toHaveLength(2)

    const byKey = await octokit.rest.actions.deleteActionsCacheByKey({ ...repo, key: 'issue-7-1' })
    expect(byKey.data.total_count).toBe(1)
    const id = cacheServer.store.byKey('issue-7-2')[0].id
    const byId = await octokit.rest.actions.deleteActionsCacheById({ ...repo, cache_id: id })
    expect(byId.status).toBe(204)
    expect(cacheServer.store.committed.map((e) => e.key)).toEqual(['issue-70-1'])
    const gone = await octokit.rest.actions
      .deleteActionsCacheById({ ...repo, cache_id: id })
      .catch((e: { status: number }) => e)
    expect(gone).toMatchObject({ status: 404 })
  })

  test('caches REST API scopes: ref filters the list and the delete by key, as the spec says', async () => {
    const store = cacheServer.store
    for (const entry of [...store.committed]) store.delete(entry.id)
    const main = store.seed({ key: 'scope-7-1', version: 'v', ref: 'refs/heads/main' })
    const pull = store.seed({ key: 'scope-7-2', version: 'v', ref: 'refs/pull/12/merge' })
    const pullSameKey = store.seed({ key: 'scope-7-1', version: 'v', ref: 'refs/pull/12/merge' })

    const query: CacheListQuery = { key: 'scope-7-', ref: 'refs/heads/main', per_page: 100 }
    const list = await octokit.rest.actions.getActionsCacheList({ ...repo, ...query })
    expect(list.data.actions_caches.map((c) => [c.id, c.ref])).toEqual([
      [main.id, 'refs/heads/main']
    ])
    expect(Object.keys(list.data.actions_caches[0]).sort()).toEqual(
      Object.keys(CACHE_ENTRY_FIELDS).sort()
    )
    const every = await octokit.rest.actions.getActionsCacheList({ ...repo, key: 'scope-7-' })
    expect(every.data.actions_caches.map((c) => c.ref).sort()).toEqual([
      'refs/heads/main',
      'refs/pull/12/merge',
      'refs/pull/12/merge'
    ])

    // A service that ignores ref answers every scope: what a client must filter itself.
    gh.cacheListIgnoresRef = true
    try {
      const unfiltered = await octokit.rest.actions.getActionsCacheList({ ...repo, ...query })
      expect(unfiltered.data.total_count).toBe(3)
    } finally {
      gh.cacheListIgnoresRef = false
    }

    const del: CacheDeleteQuery = { key: 'scope-7-1', ref: 'refs/pull/12/merge' }
    const byKey = await octokit.rest.actions.deleteActionsCacheByKey({ ...repo, ...del })
    expect(byKey.data.actions_caches.map((c) => c.id)).toEqual([pullSameKey.id])
    expect(store.committed.map((e) => e.id).sort()).toEqual([main.id, pull.id].sort())
    for (const entry of [...store.committed]) store.delete(entry.id)
  })

  test('the repository names its default branch', async () => {
    const { data } = await octokit.rest.repos.get(repo)
    expect(data.default_branch).toBe('main')
    gh.state.addRepo('octo-org/trunk-repo', { defaultBranch: 'trunk' })
    const trunk = await octokit.rest.repos.get({ owner: 'octo-org', repo: 'trunk-repo' })
    expect(trunk.data.default_branch).toBe('trunk')
  })

  test('injected 5xx and secondary rate limits reach the caller (octokit here does not retry)', async () => {
    gh.failNext('GET /repos/octo-org/octo-repo/issues/7', { status: 502 })
    const before = gh.requests.length
    const error = await octokit.rest.issues
      .get({ ...repo, issue_number: 7 })
      .catch((e: { status: number }) => e)
    expect(error).toMatchObject({ status: 502 })
    expect(gh.requests.length - before).toBe(1)

    gh.secondaryRateLimitNext('POST /repos/octo-org/octo-repo/issues/7/comments', {
      retryAfter: 42
    })
    const limited = await octokit.rest.issues
      .createComment({ ...repo, issue_number: 7, body: 'hi' })
      .catch(
        (e: { status: number; message: string; response?: { headers: Record<string, string> } }) =>
          e
      )
    expect(limited).toMatchObject({ status: 403 })
    expect((limited as { message: string }).message).toContain('secondary rate limit')
    expect(
      (limited as { response?: { headers: Record<string, string> } }).response?.headers[
        'retry-after'
      ]
    ).toBe('42')
    expect(
      (await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: 'hi' })).status
    ).toBe(201)
  })

  test('a hung request stays pending until released', async () => {
    gh.failNext('GET /repos/octo-org/octo-repo', { hang: true })
    let settled = false
    const pending = octokit.rest.repos.get(repo).finally(() => (settled = true))
    await gh.waitForRequest((r) => r.fault === true && r.path === '/repos/octo-org/octo-repo')
    expect(settled).toBe(false)
    expect(gh.releaseHung()).toBe(1)
    await expect(pending).rejects.toBeDefined()
  })

  test('the primary rate limit budget runs out with 403 and remaining 0', async () => {
    const saved = gh.rateLimitRemaining
    gh.rateLimitRemaining = 1
    try {
      const ok = await octokit.rest.repos.get(repo)
      expect(ok.headers['x-ratelimit-remaining']).toBe('0')
      const error = await octokit.rest.repos
        .get(repo)
        .catch((e: { status: number; message: string }) => e)
      expect(error).toMatchObject({ status: 403 })
      expect((error as { message: string }).message).toContain('API rate limit exceeded')
    } finally {
      gh.rateLimitRemaining = saved
    }
  })
})

describe('action runner', () => {
  const fixtures = join(scratch, 'fixtures')
  const lib = (pkg: string): string => pathToFileURL(join(REPO_ROOT, 'node_modules', pkg)).href
  let cacheServer: CacheServer
  let gh: GitHubApi

  beforeAll(async () => {
    mkdirSync(fixtures, { recursive: true })
    // A stand-in action: restores a counter kept under $HOME from the cache, bumps it, saves it
    // under a new key, comments on the issue, and writes every kind of file command.
    writeFileSync(
      join(fixtures, 'main.mjs'),
      `import * as core from '${lib('@actions/core/lib/core.js')}'
import * as cache from '${lib('@actions/cache/lib/cache.js')}'
import * as github from '${lib('@actions/github/lib/github.js')}'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

const dir = join(homedir(), '.local', 'share', 'fixture')
const prefix = core.getInput('key-prefix', { required: true })
core.setOutput('fresh-home', String(!existsSync(dir)))
const hit = await cache.restoreCache([dir], prefix + 'none', [prefix])
const count = hit ? Number(readFileSync(join(dir, 'count'), 'utf8')) + 1 : 1
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'count'), String(count))
const saved = await cache.saveCache([dir], prefix + count)
const octokit = github.getOctokit(core.getInput('github-token'))
const { data } = await octokit.rest.issues.createComment({ ...github.context.repo, issue_number: github.context.issue.number, body: 'count ' + count })
core.setOutput('hit', hit ?? '')
core.setOutput('count', String(count))
core.setOutput('saved', String(saved))
core.setOutput('comment-id', String(data.id))
core.setOutput('multi', 'line one\\nline two')
core.setOutput('spaced input', core.getInput('spaced input'))
core.setOutput('event', github.context.eventName + ' by ' + github.context.payload.sender?.login)
core.saveState('count', String(count))
core.exportVariable('FIXTURE_EXPORTED', 'from main')
core.addPath('/opt/fixture/bin')
core.warning('a warning, 100% visible')
await core.summary.addHeading('Fixture').addRaw('count ' + count).write()
`
    )
    writeFileSync(
      join(fixtures, 'post.mjs'),
      `import * as core from '${lib('@actions/core/lib/core.js')}'
core.setOutput('state-count', core.getState('count'))
core.setOutput('exported', process.env.FIXTURE_EXPORTED ?? '')
core.setOutput('path-has-fixture', String(process.env.PATH.split(':').includes('/opt/fixture/bin')))
`
    )
    writeFileSync(join(fixtures, 'hang.mjs'), `setInterval(() => {}, 1000)\n`)
    writeFileSync(
      join(fixtures, 'orphan.mjs'),
      `import { spawn } from 'node:child_process'
spawn('sleep', ['60'], { stdio: 'inherit' })
process.exit(3)
`
    )
    cacheServer = await startCacheServer({ protocol: 'v2' })
    gh = await startGitHubApi({ cacheStore: cacheServer.store, repos: ['octo-org/octo-repo'] })
    gh.state.addIssue('octo-org/octo-repo', { number: 7, user: 'alice' })
  })
  afterAll(async () => {
    await Promise.all([gh.close(), cacheServer.close()])
  })

  const issueComment = {
    name: 'issue_comment',
    payload: {
      action: 'created',
      issue: { number: 7 },
      comment: { id: 1, body: '/kugetsu go' },
      repository: { name: 'octo-repo', owner: { login: 'octo-org' } },
      sender: { login: 'alice' }
    }
  }

  test('runs an action like the runner, and only the cache survives between runs', async () => {
    const run = (): ReturnType<typeof runAction> =>
      runAction({
        entry: join(fixtures, 'main.mjs'),
        inputs: { 'key-prefix': 'issue-7-', 'github-token': gh.token, 'spaced input': 'yes' },
        event: issueComment,
        apiUrl: gh.url,
        env: cacheServer.env,
        timeoutMs: 60_000
      })
    const first = await run()
    expect(first.stderr).toBe('')
    expect(first.exitCode).toBe(0)
    expect(first.outputs).toMatchObject({
      'fresh-home': 'true',
      hit: '',
      count: '1',
      multi: 'line one\nline two',
      'spaced input': 'yes',
      event: 'issue_comment by alice'
    })
    expect(Number(first.outputs.saved)).toBeGreaterThan(0)
    expect(first.env[inputEnvName('spaced input')]).toBe('yes')
    expect(first.env['INPUT_GITHUB-TOKEN']).toBe(gh.token)
    expect(first.state).toEqual({ count: '1' })
    expect(first.exportedEnv).toEqual({ FIXTURE_EXPORTED: 'from main' })
    expect(first.addedPath).toEqual(['/opt/fixture/bin'])
    expect(first.summary).toContain('<h1>Fixture</h1>')
    expect(first.annotations).toContainEqual({
      level: 'warning',
      message: 'a warning, 100% visible',
      properties: {}
    })
    // The archive holds the HOME path relative to the workspace, as on a hosted runner.
    const entry = cacheServer.store.byKey('issue-7-1')[0]
    expect(readArchive(entry).map((m) => m.path)).toContain(
      '../../../home/.local/share/fixture/count'
    )

    const second = await run()
    expect(second.exitCode).toBe(0)
    // Same absolute paths, fresh filesystem: only the cache carried the counter over.
    expect(second.job.home).toBe(first.job.home)
    expect(second.outputs).toMatchObject({ 'fresh-home': 'true', hit: 'issue-7-1', count: '2' })
    expect(gh.state.commentsOf('octo-org/octo-repo', 7).map((c) => c.body)).toEqual([
      'count 1',
      'count 2'
    ])
    expect(gh.requests.every((r) => r.authorization === `token ${gh.token}`)).toBe(true)

    const post = await runPost(second, { entry: join(fixtures, 'post.mjs') })
    expect(post.exitCode).toBe(0)
    expect(post.outputs).toEqual({
      'state-count': '2',
      exported: 'from main',
      'path-has-fixture': 'true'
    })
    // A later job recycles the directories; the old job can no longer be run in.
    createJob()
    await expect(runPost(second, { entry: join(fixtures, 'post.mjs') })).rejects.toThrow(/recycled/)
  }, 90_000)

  test('kills a step that outlives its time limit', async () => {
    const result = await runAction({ entry: join(fixtures, 'hang.mjs'), timeoutMs: 300 })
    expect(result.timedOut).toBe(true)
    expect(result.exitCode).toBeNull()
    expect(result.signal).toBe('SIGTERM')
    expect(result.durationMs).toBeLessThan(5_000)
  })

  test('kills processes a step leaves behind', async () => {
    const result = await runAction({ entry: join(fixtures, 'orphan.mjs'), timeoutMs: 30_000 })
    expect(result.exitCode).toBe(3)
    expect(result.orphansKilled).toBe(true)
    expect(result.durationMs).toBeLessThan(5_000)
  })

  test('parses file commands the way the runner does', () => {
    expect(parseKeyValueFile('a=1\nb<<EOF\nx\ny=z\nEOF\nc=d<<e\n\nempty<<X\nX\n')).toEqual({
      a: '1',
      b: 'x\ny=z',
      c: 'd<<e',
      empty: ''
    })
    expect(() => parseKeyValueFile('a<<EOF\nnever closed\n')).toThrow(/delimiter/)
    expect(() => parseKeyValueFile('no separator\n')).toThrow(/invalid format/)
  })
})
