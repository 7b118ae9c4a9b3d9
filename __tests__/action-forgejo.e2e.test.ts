/**
 * The bundled action on Forgejo and Gitea: runs launched with their runner's environment
 * (FORGEJO_ACTIONS / GITEA_ACTIONS, the API at /api/v1, no GraphQL URL, the job token in every
 * step's environment), their payloads (is_pull, no author_association) and the Gitea stand-in's
 * API, which refuses the permission endpoint to the job token. Who may trigger is then decided by
 * the repository's assignees (the users with write access) and allowed-users.
 *
 * The tests of a describe block run in order and build on each other.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { cleanupJobs } from './support/action-runner.js'
import {
  createKugetsuWorld,
  createOpencodeRig,
  expectSuccess as expectRunSuccess,
  readActionDefinition,
  type KugetsuWorld,
  type OpencodeRig,
  type WorldRun
} from './support/action-e2e.js'
import { readArchive } from './support/cache-server.js'
import { type GiteaApi, type GiteaForge } from './support/gitea-api.js'
import { tarArchive, zstdCompressed } from './support/tar-build.js'

const REPO = 'acme/widgets'
const SERVER = 'https://forge.example.test'
const HOST = 'forge.example.test'
const PERMISSION = /^\/api\/v1\/repos\/acme\/widgets\/collaborators\/[^/]+\/permission$/

const declaredOutputs = new Set(readActionDefinition().outputs)

let rig: OpencodeRig

beforeAll(async () => {
  rig = await createOpencodeRig({ scratchPrefix: 'kugetsu-forgejo-e2e-' })
})

afterAll(async () => {
  await rig?.close()
  cleanupJobs()
})

/**
 * A repository owned by an organization: jane.doe writes as a collaborator, team.writer writes
 * as a member of a team (not a collaborator), reader is a read-only collaborator, mallory nobody.
 */
async function newWorld(forge: GiteaForge, firstRunId: number): Promise<KugetsuWorld<GiteaApi>> {
  const world = await createKugetsuWorld({
    ...rig.worldOptions,
    forge,
    protocol: 'v1',
    serverUrl: SERVER,
    repo: REPO,
    firstRunId
  })
  const { state } = world.github
  state.setPermission(REPO, 'jane.doe', 'write')
  state.setPermission(REPO, 'reader', 'read')
  state.addTeamMember(REPO, 'maintainers', 'team.writer', 'write')
  state.addUser('mallory')
  return world
}

/** A person's comment on the issue, and the run its issue_comment event starts. */
async function comment(
  world: KugetsuWorld<GiteaApi>,
  issue: number,
  user: string,
  body: string,
  inputs: Record<string, string> = {}
): Promise<WorldRun> {
  const posted = world.github.state.addComment(REPO, issue, { body, user })
  return world.run({ event: world.github.events.issueComment(REPO, posted.id), inputs })
}

/** The run succeeded, and set only outputs action.yml declares. */
function expectSuccess(run: WorldRun): void {
  expectRunSuccess(run)
  for (const name of Object.keys(run.outputs)) expect(declaredOutputs).toContain(name)
}

/** Nothing a Gitea-family forge lacks was asked for: no GraphQL, no caches REST API, all /api/v1. */
function expectOnlyGiteaApi(run: WorldRun): void {
  for (const request of run.github) {
    if (request.git) continue
    expect(request.path).toMatch(/^\/api\/v1\//)
    expect(request.path).not.toMatch(/graphql|\/actions\/caches/)
  }
}

/**
 * The permission lookup of `login` (who asked) was tried first, refused, and answered by the
 * assignees list, fetched once. The turn may look up more people after it (the trust labels of
 * what others wrote; the forge answers a lookup of its own Actions user) from that same list.
 */
function expectFallback(run: WorldRun, login: string): void {
  const asked = run.github.filter((r) => PERMISSION.test(r.path))
  expect(asked[0]?.path).toBe(`/api/v1/repos/${REPO}/collaborators/${login}/permission`)
  expect(asked[0].status).toBe(403)
  // One list for the whole run, however many people are looked up.
  const assignees = run.github.filter((r) => r.path === `/api/v1/repos/${REPO}/assignees`)
  expect(assignees.map((r) => r.status)).toEqual([200])
  // The job token, as the runner gives it: `token …`.
  expect(asked[0].authorization).toBe(`token ${run.result.env.GITHUB_TOKEN}`)
}

function expectRefused(run: WorldRun, login: string): void {
  expectSuccess(run)
  expect(run.outputs.skipped).toBe('true')
  expect(run.outputs['skip-reason']).toBe(
    `not authorised: ${login} is not among the users with write access to the repository (Forgejo does not tell the job token anyone\u2019s permission, only who may write (the repository\u2019s assignees)); to let them trigger kugetsu, give them write access or list them in allowed-users`
  )
  expect(run.opencode).toEqual([])
  expect(run.comments).toEqual([])
  expect(run.saved).toEqual([])
  // Nothing but the lookups: no reaction, no comment.
  expect(run.github.filter((r) => r.method !== 'GET')).toEqual([])
}

describe('on Forgejo (the permission endpoint refused to the job token)', () => {
  let world: KugetsuWorld<GiteaApi>
  let start: WorldRun

  beforeAll(async () => {
    world = await newWorld('forgejo', 7000)
    world.github.state.addIssue(REPO, { number: 3, title: 'Widgets wobble', user: 'jane.doe' })
  })
  afterAll(() => world?.close())

  test('a collaborator with write access (login with a dot) starts the session', async () => {
    start = await comment(world, 3, 'jane.doe', '/kugetsu why do they wobble?')
    expectSuccess(start)
    expect(start.outputs).toMatchObject({
      mode: 'start',
      'issue-ref': `${HOST}/${REPO}#3`,
      'state-restored': 'false'
    })
    // The runner's environment as the action saw it.
    expect(start.result.env).toMatchObject({
      GITEA_ACTIONS: 'true',
      FORGEJO_ACTIONS: 'true',
      FORGEJO_TOKEN: world.github.token,
      GITHUB_TOKEN: world.github.token,
      GITHUB_API_URL: world.github.apiUrl,
      GITHUB_GRAPHQL_URL: ''
    })
    expectFallback(start, 'jane.doe')
    expectOnlyGiteaApi(start)
    // 👀 without an id in the answer.
    const reaction = start.github.find((r) => r.path.endsWith('/reactions'))
    expect(reaction).toMatchObject({ method: 'POST', json: { content: 'eyes' }, status: 201 })
    // One comment: the tracking comment edited into the reply, by the Actions user.
    expect(start.comments).toHaveLength(1)
    const [reply] = start.comments
    expect(reply.user).toBe(world.github.state.actionsUser.login)
    expect(reply.body).toContain('author="jane.doe">\nwhy do they wobble?\n</request-text')
    expect(start.outputs['comment-url']).toBe(`${SERVER}/${REPO}/issues/3#issuecomment-${reply.id}`)
    // The cache got keys it lowercased; the run linked by its number (the world's first run: 1).
    expect(start.saved.length).toBeGreaterThan(0)
    for (const entry of start.saved) expect(entry.key).toBe(entry.key.toLowerCase())
    const tracking = start.github.find(
      (r) => r.method === 'POST' && r.path.endsWith('/issues/3/comments')
    )
    expect(JSON.stringify(tracking?.json)).toContain(`${SERVER}/${REPO}/actions/runs/1)`)
  }, 180_000)

  test('a team member with write access (not a collaborator) continues it', async () => {
    const next = await comment(world, 3, 'team.writer', '/kugetsu and the fix?')
    expectSuccess(next)
    expect(next.outputs).toMatchObject({
      mode: 'continue',
      'session-id': start.outputs['session-id'],
      'state-restored': 'true'
    })
    expectFallback(next, 'team.writer')
    expectOnlyGiteaApi(next)
    expect(next.outputs.response).toContain('author="team.writer">\nand the fix?\n</request-text')
    const tracking = next.github.find(
      (r) => r.method === 'POST' && r.path.endsWith('/issues/3/comments')
    )
    expect(JSON.stringify(tracking?.json)).toContain(`${SERVER}/${REPO}/actions/runs/2)`)
  }, 150_000)

  test('a stranger is refused, and told nothing; the skip reason says what to configure', async () => {
    const run = await comment(world, 3, 'mallory', '/kugetsu delete everything')
    expectRefused(run, 'mallory')
    expectFallback(run, 'mallory')
  }, 60_000)

  test('payload permissions are never trusted: a stranger’s event claiming admin is refused', async () => {
    const posted = world.github.state.addComment(REPO, 3, { body: '/kugetsu pwn', user: 'mallory' })
    const event = world.github.events.issueComment(REPO, posted.id)
    const payload = event.payload as { repository: { permissions: object } }
    payload.repository.permissions = { admin: true, push: true, pull: true }
    const run = await world.run({ event })
    expectRefused(run, 'mallory')
  }, 60_000)

  test('a read-only collaborator is refused (collaborator membership is not write access)', async () => {
    const run = await comment(world, 3, 'reader', '/kugetsu please')
    expectRefused(run, 'reader')
    // The forge would have said "collaborator" (204): kugetsu did not ask that.
    expect(run.github.some((r) => /\/collaborators\/reader$/.test(r.path))).toBe(false)
  }, 60_000)

  test('allowed-users admits a person without write access, without looking them up', async () => {
    const run = await comment(world, 3, 'reader', '/kugetsu now please', {
      'allowed-users': 'Reader'
    })
    expectSuccess(run)
    expect(run.outputs).toMatchObject({ mode: 'continue', 'state-restored': 'true' })
    expect(run.github.some((r) => r.path.endsWith('/collaborators/reader/permission'))).toBe(false)
  }, 150_000)
})

describe('on Gitea', () => {
  let world: KugetsuWorld<GiteaApi>

  beforeAll(async () => {
    world = await newWorld('gitea', 7100)
    world.github.state.addIssue(REPO, { number: 5, title: 'Gears', user: 'mallory' })
  })
  afterAll(() => world?.close())

  test('a writer starts a session; GITEA_ACTIONS alone, no Forgejo variables', async () => {
    const run = await comment(world, 5, 'jane.doe', '/kugetsu hello')
    expectSuccess(run)
    expect(run.outputs).toMatchObject({ mode: 'start', 'issue-ref': `${HOST}/${REPO}#5` })
    expect(run.result.env.GITEA_ACTIONS).toBe('true')
    expect(run.result.env.FORGEJO_ACTIONS).toBeUndefined()
    expect(run.result.env.FORGEJO_TOKEN).toBeUndefined()
    expectFallback(run, 'jane.doe')
    expectOnlyGiteaApi(run)
  }, 180_000)

  test('a manual run (workflow_dispatch, whose payload permissions are all false) by a writer', async () => {
    const run = await world.run({
      event: world.github.events.dispatch(REPO, 'team.writer'),
      inputs: { 'issue-ref': '5', message: 'from the button' }
    })
    expectSuccess(run)
    expect(run.outputs).toMatchObject({ mode: 'continue', 'state-restored': 'true' })
    expect(run.outputs.response).toContain('from the button')
    expectFallback(run, 'team.writer')
  }, 150_000)

  test('a manual run by someone without write access is refused', async () => {
    const run = await world.run({
      event: world.github.events.dispatch(REPO, 'reader'),
      inputs: { 'issue-ref': '5', message: 'me too' }
    })
    expectSuccess(run)
    expect(run.outputs.skipped).toBe('true')
    expect(run.outputs['skip-reason']).toMatch(
      /^not authorised: reader is not among the users with write access .*Gitea does not tell/
    )
    expect(run.opencode).toEqual([])
    expect(run.comments).toEqual([])
  }, 60_000)
})

/**
 * destroy, a closed issue, list and prune with no caches REST API: tombstones and the session
 * index are all the cache protocol carries; nothing is deleted, and nothing fails.
 */
describe('the lifecycle on Forgejo, through the cache protocol alone', () => {
  let world: KugetsuWorld<GiteaApi>
  const sessionOf: Record<number, string> = {}
  const ref = (n: number) => `${HOST}/${REPO}#${n}`
  const chatTexts = (run: WorldRun) =>
    run.model
      .filter((request) => request.kind === 'chat')
      .flatMap((request) => request.userTexts)
      .join('\n')
  const command = (inputs: Record<string, string>, sender = 'jane.doe') =>
    world.run({ event: world.github.events.dispatch(REPO, sender), inputs })
  const listed = async () => {
    const run = await command({ command: 'list' })
    expectSuccess(run)
    // Forgejo has no caches REST API: it is not asked; the index is read at once.
    expect(run.github.filter((r) => /\/actions\/caches/.test(r.path))).toEqual([])
    expect(run.result.stdout).toContain('Forgejo has no caches REST API: reading the session index')
    expect(run.saved).toEqual([])
    expect(run.indexed).toEqual([])
    const sessions = JSON.parse(run.outputs.sessions) as { ref: string; sessionId: string }[]
    return { run, sessions }
  }
  const plantIndex = (build: (dir: string) => Buffer) => {
    const good = world.cache.store.committed.find((e) => /-index-\d+-\d+$/.test(e.key))!
    const dir = readArchive(good)[0].path.replace(/\/.*$/, '')
    return world.cache.store.seed({
      key: `kugetsu-v1-index-999${world.cache.store.committed.length}-1`,
      version: good.version,
      // The server dates an entry when it is saved: a planted one is newest only until the next.
      createdAt: new Date(),
      archive: build(dir)
    })
  }

  beforeAll(async () => {
    world = await newWorld('forgejo', 7200)
    for (const number of [8, 9, 10]) {
      world.github.state.addIssue(REPO, { number, title: `Issue ${number}`, user: 'jane.doe' })
    }
  })
  afterAll(() => world?.close())

  test('every turn updates the session index; list reads it, session ids in their case', async () => {
    for (const number of [8, 9]) {
      const run = await comment(world, number, 'jane.doe', `/kugetsu remember PAPAYA${number}`)
      expectSuccess(run)
      sessionOf[number] = run.outputs['session-id']
      expect(run.indexed).toHaveLength(1)
      expect(run.indexed[0].key).toBe(`kugetsu-v1-index-${run.runId}-1`)
    }
    const { run, sessions } = await listed()
    expect(sessions).toEqual([
      expect.objectContaining({ ref: ref(8), sessionId: sessionOf[8], turns: 1 }),
      expect.objectContaining({ ref: ref(9), sessionId: sessionOf[9], turns: 1 })
    ])
    expect(sessionOf[8]).not.toBe(sessionOf[8].toLowerCase())
    expect(run.result.summary).toContain('session index')
  }, 300_000)

  test('destroy forgets the session; the next request starts afresh without the old thread', async () => {
    const destroy = await command({ command: 'destroy', 'issue-ref': '8' })
    expectSuccess(destroy)
    // the tombstone is all it takes: no caches REST API is asked for entries to delete
    expectOnlyGiteaApi(destroy)
    expect(destroy.result.stdout).toContain('Forgejo has no caches REST API: the tombstone')
    expect(destroy.outputs['deleted-entries']).toBe('0')
    expect(destroy.saved.map((e) => e.key)).toEqual([
      `kugetsu-v1-issue-8-${destroy.runId}-1-forgotten`
    ])
    expect(destroy.indexed).toHaveLength(1)
    const { run, sessions } = await listed()
    expect(sessions.map((s) => s.ref)).toEqual([ref(9)])
    expect(run.result.summary).toContain('forgotten')
    expect(run.result.summary).toContain('#8')

    const next = await comment(world, 8, 'jane.doe', '/kugetsu what was the word?')
    expectSuccess(next)
    expect(next.outputs).toMatchObject({ mode: 'start', 'state-restored': 'false' })
    expect(next.outputs['session-id']).not.toBe(sessionOf[8])
    expect(chatTexts(next)).not.toContain('PAPAYA8')
    sessionOf[8] = next.outputs['session-id']
    expect((await listed()).sessions.map((s) => [s.ref, s.sessionId])).toEqual([
      [ref(8), sessionOf[8]],
      [ref(9), sessionOf[9]]
    ])
  }, 300_000)

  test('/kugetsu reset forgets the session without the model; the next request starts afresh', async () => {
    const reset = await comment(world, 8, 'jane.doe', '/kugetsu reset')
    expectSuccess(reset)
    expect(reset.model).toEqual([])
    expect(reset.opencode).toEqual([])
    expect(reset.saved.map((e) => e.key)).toEqual([`kugetsu-v1-issue-8-${reset.runId}-1-forgotten`])
    expect(reset.comments.at(-1)?.body).toContain('kugetsu reset')
    expect((await listed()).sessions.map((s) => s.ref)).toEqual([ref(9)])

    const next = await comment(world, 8, 'jane.doe', '/kugetsu start over')
    expectSuccess(next)
    expect(next.outputs).toMatchObject({ mode: 'start', 'state-restored': 'false' })
    expect(next.outputs['session-id']).not.toBe(sessionOf[8])
    expect(chatTexts(next)).not.toContain('what was the word?')
    sessionOf[8] = next.outputs['session-id']
  }, 300_000)

  test('a close by a reader keeps the session; by a writer forgets it', async () => {
    world.github.closeIssue(REPO, 9, 'reader')
    const byReader = await world.run({ event: world.github.events.issueClosed(REPO, 9, 'reader') })
    expectSuccess(byReader)
    expect(byReader.outputs.skipped).toBe('true')
    expect(byReader.saved).toEqual([])
    expect(byReader.indexed).toEqual([])
    expect((await listed()).sessions.map((s) => s.ref)).toContain(ref(9))

    world.github.closeIssue(REPO, 9, 'jane.doe')
    const byWriter = await world.run({
      event: world.github.events.issueClosed(REPO, 9, 'jane.doe')
    })
    expectSuccess(byWriter)
    expect(byWriter.saved.map((e) => e.key)).toEqual([
      `kugetsu-v1-issue-9-${byWriter.runId}-1-forgotten`
    ])
    expect((await listed()).sessions.map((s) => s.ref)).toEqual([ref(8)])
  }, 300_000)

  test('prune deletes nothing and says what the cache will evict, without failing', async () => {
    const run = await command({ command: 'prune' })
    expectSuccess(run)
    expect(run.outputs).toMatchObject({ mode: 'prune', 'deleted-entries': '0' })
    expect(run.result.summary).toContain('evicts entries unused for 7 days')
    expect(run.github.filter((r) => r.method === 'DELETE')).toEqual([])
    expect(run.github.filter((r) => /\/actions\/caches/.test(r.path))).toEqual([])
  }, 60_000)

  test('a planted index is read only as far as it is sound, and the next turn heals it', async () => {
    // An archive that escapes its directory: refused before anything is extracted.
    const escaping = plantIndex((dir) =>
      zstdCompressed(tarArchive([{ path: `${dir}/../../../../escaped`, data: 'pwned' }]))
    )
    const refused = await listed()
    expect(refused.sessions).toEqual([])
    expect(refused.run.result.annotations.map((a) => a.message).join('\n')).toContain(
      'session index'
    )
    world.cache.store.delete(escaping.id)

    // Another repository's issue, markup in a session id: left out; a sound one is listed.
    const entries = [
      { number: 8, ref: `${HOST}/evil/other#8`, sessionId: 'ses_evil', turns: 1 },
      { number: 10, ref: ref(10), sessionId: 'ses_x|<img src=x>', turns: 1 }
    ].map((issue) => ({ ...issue, lastUsedAt: new Date().toISOString() }))
    plantIndex((dir) =>
      zstdCompressed(
        tarArchive([
          {
            path: `${dir}/index.json`,
            data: JSON.stringify({ format: 'kugetsu-index-v1', issues: entries })
          }
        ])
      )
    )
    const partial = await listed()
    expect(partial.sessions).toEqual([])
    expect(partial.run.result.summary).not.toContain('evil')
    expect(partial.run.result.summary).not.toContain('<img')

    // The next turn merges its own issue into what it read, and saves a newer index.
    const healing = await comment(world, 8, 'jane.doe', '/kugetsu still there?')
    expectSuccess(healing)
    expect(healing.outputs).toMatchObject({ mode: 'continue', 'session-id': sessionOf[8] })
    expect((await listed()).sessions.map((s) => [s.ref, s.sessionId])).toEqual([
      [ref(8), sessionOf[8]]
    ])
  }, 300_000)
})
