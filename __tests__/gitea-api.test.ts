/**
 * The Gitea stand-in answers like Gitea where kugetsu depends on it, and kugetsu's own REST client
 * (github.ts, through octokit) works against it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { findAccess } from '../src/action/github/access.js'
import { createGitHub } from '../src/action/github/github.js'
import { startGiteaApi, type GiteaApi } from './support/gitea-api.js'

const REPO = 'acme/widgets'
/** The parts of a payload the tests read. */
type Payload = { repository: { permissions: unknown }; comment: { user: object } }

let gitea: GiteaApi
let admin: string
let janeToken: string

beforeAll(async () => {
  gitea = await startGiteaApi({ forge: 'forgejo', repos: [REPO] })
  const { state } = gitea
  state.addUser('root', { isAdmin: true })
  admin = gitea.addToken('root')
  state.setPermission(REPO, 'jane.doe', 'write')
  state.setPermission(REPO, 'reader', 'read')
  state.setPermission(REPO, 'boss', 'admin')
  state.addTeamMember(REPO, 'maintainers', 'team.writer', 'write')
  state.addUser('mallory')
  janeToken = gitea.addToken('jane.doe')
  state.addIssue(REPO, { number: 1, title: 'One', user: 'jane.doe' })
})
afterAll(() => gitea?.close())

async function call(
  path: string,
  options: { token?: string; scheme?: string; method?: string; body?: unknown } = {}
): Promise<{ status: number; json: unknown }> {
  const token = options.token === undefined ? gitea.token : options.token
  const response = await fetch(`${gitea.apiUrl}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(token ? { authorization: `${options.scheme ?? 'token'} ${token}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {})
    },
    body: options.body ? JSON.stringify(options.body) : undefined
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined }
}

describe('the Gitea stand-in', () => {
  it('refuses the permission endpoint to the job token; admins, repo admins and the user may ask', async () => {
    const path = `/repos/${REPO}/collaborators/jane.doe/permission`
    expect(await call(path)).toMatchObject({
      status: 403,
      json: { message: expect.stringMatching(/^Only admins can query all permissions/) }
    })
    for (const token of [admin, gitea.addToken('boss'), janeToken]) {
      expect(await call(path, { token })).toMatchObject({
        status: 200,
        json: { permission: 'write', role_name: 'write', user: { login: 'jane.doe' } }
      })
    }
    expect(
      await call(`/repos/${REPO}/collaborators/acme/permission`, { token: admin })
    ).toMatchObject({ status: 200, json: { permission: 'owner' } })
    expect(
      await call(`/repos/${REPO}/collaborators/nobody/permission`, { token: admin })
    ).toMatchObject({ status: 404 })
  })

  it('says who is a collaborator (read-only ones too, team members not)', async () => {
    const status = async (login: string) =>
      (await call(`/repos/${REPO}/collaborators/${login}`)).status
    expect(await status('jane.doe')).toBe(204)
    expect(await status('reader')).toBe(204)
    expect(await status('team.writer')).toBe(404)
    expect(await status('mallory')).toBe(404)
    expect(await status('nobody')).toBe(422)
  })

  it('lists as assignees the users with write access: owner, collaborators, team members', async () => {
    const { json } = await call(`/repos/${REPO}/assignees`)
    const logins = (json as { login: string }[]).map((user) => user.login).sort()
    expect(logins).toEqual(['acme', 'boss', 'jane.doe', 'team.writer'])
  })

  it('takes `token` and `Bearer`; refuses an unknown token; lets anyone read a public repository', async () => {
    expect((await call(`/repos/${REPO}`, { scheme: 'Bearer' })).json).toMatchObject({
      permissions: { admin: false, push: true, pull: true }
    })
    expect((await call(`/repos/${REPO}`, { token: 'nope' })).status).toBe(401)
    expect((await call(`/repos/${REPO}`, { token: '' })).status).toBe(200)
    expect(
      (
        await call(`/repos/${REPO}/issues/1/comments`, {
          token: '',
          method: 'POST',
          body: { body: 'x' }
        })
      ).status
    ).toBe(401)
  })

  it('has no caches REST API and no GraphQL', async () => {
    expect((await call(`/repos/${REPO}/actions/caches`)).status).toBe(404)
    const graphql = await fetch(`${gitea.url}/api/graphql`, { method: 'POST', body: '{}' })
    expect(graphql.status).toBe(404)
  })

  it('builds payloads with the permissions Gitea puts in them', () => {
    const posted = gitea.state.addComment(REPO, 1, { body: 'hi', user: 'mallory' })
    const comment = gitea.events.issueComment(REPO, posted.id).payload as Payload
    expect(comment).toMatchObject({ action: 'created', is_pull: false })
    expect(comment.repository.permissions).toEqual({ admin: false, push: false, pull: true })
    expect(comment).not.toHaveProperty('comment.author_association')
    expect(comment.comment.user).not.toHaveProperty('type')
    gitea.closeIssue(REPO, 1, 'mallory')
    const closed = gitea.events.issueClosed(REPO, 1, 'mallory').payload as Payload
    // The issue author's (jane.doe: write), not the closer's.
    expect(closed.repository.permissions).toEqual({ admin: false, push: true, pull: true })
    const dispatch = gitea.events.dispatch(REPO, 'boss').payload as Payload
    expect(dispatch.repository.permissions).toEqual({ admin: false, push: false, pull: false })
  })

  it('gives a step the forge’s environment', () => {
    expect(gitea.runnerEnv()).toEqual({
      GITEA_ACTIONS: 'true',
      FORGEJO_ACTIONS: 'true',
      FORGEJO_TOKEN: gitea.token,
      GITHUB_TOKEN: gitea.token,
      GITHUB_API_URL: gitea.apiUrl,
      GITHUB_GRAPHQL_URL: ''
    })
  })
})

describe('kugetsu’s REST client against it', () => {
  const client = () =>
    createGitHub({
      token: gitea.token,
      apiUrl: gitea.apiUrl,
      repo: { owner: 'acme', repo: 'widgets' }
    })

  it('is refused the permission endpoint, and finds writers among the assignees', async () => {
    const github = client()
    expect(await github.permission('jane.doe')).toMatchObject({ kind: 'refused' })
    expect(await findAccess('team.writer', github, 'forgejo')).toEqual({
      permission: 'write',
      via: 'assignees'
    })
    expect(await findAccess('reader', github, 'forgejo')).toEqual({
      permission: 'none',
      via: 'assignees'
    })
  })

  it('lists the assignees once for every lookup of a run; a failed list is asked for again', async () => {
    const listed = () =>
      gitea.requests.filter((r) => r.path === `/api/v1/repos/${REPO}/assignees`).length
    const github = client()
    const before = listed()
    const found = await Promise.all(
      ['jane.doe', 'reader', 'team.writer', 'mallory', 'boss'].map((login) =>
        findAccess(login, github, 'forgejo')
      )
    )
    expect(found.map((f) => f.permission)).toEqual(['write', 'none', 'write', 'none', 'write'])
    expect(await findAccess('Team.Writer', github, 'forgejo')).toEqual({
      permission: 'write',
      via: 'assignees'
    })
    expect(listed() - before).toBe(1)

    // Not a cached empty list: the failure is an error, and the next lookup asks the forge again.
    const other = client()
    gitea.failNext(`GET /repos/${REPO}/assignees`, { status: 400 })
    await expect(findAccess('jane.doe', other, 'forgejo')).rejects.toThrow(/allowed-users/)
    expect(await findAccess('jane.doe', other, 'forgejo')).toEqual({
      permission: 'write',
      via: 'assignees'
    })
    expect(await findAccess('mallory', other, 'forgejo')).toMatchObject({ permission: 'none' })
    expect(listed() - before).toBe(3)
  })

  it('reacts (201, then 200 without an id), comments, edits, reads the thread and the issue', async () => {
    const github = client()
    const trigger = gitea.state.addComment(REPO, 1, { body: '/kugetsu hi', user: 'jane.doe' })
    await github.reactToComment(trigger.id, 'eyes')
    await github.reactToComment(trigger.id, 'eyes')
    const reactions = gitea.requests.filter((r) => r.path.endsWith('/reactions'))
    expect(reactions.map((r) => r.status)).toEqual([201, 200])
    expect(trigger.reactions).toHaveLength(1)

    const posted = await github.createComment(1, 'working')
    expect(posted.url).toMatch(/\/acme\/widgets\/issues\/1#issuecomment-\d+$/)
    await github.updateComment(posted.id, 'done')
    expect(gitea.state.comments.get(posted.id)).toMatchObject({
      body: 'done',
      user: gitea.state.actionsUser.login
    })
    const thread = await github.comments(1)
    expect(thread.at(-1)).toMatchObject({ author: gitea.state.actionsUser.login, body: 'done' })
    expect(await github.issue(1, 'acme/widgets#1')).toMatchObject({
      number: 1,
      author: 'jane.doe',
      isPullRequest: false
    })
    expect(await github.defaultBranch()).toBe('main')
    // The job token acts as Forgejo's Actions user, and sees its own address.
    expect(await github.tokenUser()).toEqual({
      login: 'forgejo-actions',
      id: -2,
      email: 'noreply@forgejo.org'
    })
  })
})
