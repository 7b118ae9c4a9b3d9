import { createFrame } from '../src/action/conversation/untrusted.js'
import { describe, expect, it } from '@jest/globals'
import {
  findAccess,
  type AccessSource,
  type PermissionAnswer
} from '../src/action/github/access.js'
import {
  authorize,
  parseLoginList,
  permissionFromResponse,
  type AuthorizeInput
} from '../src/action/github/authorize.js'
import { requestFromEvent } from '../src/action/github/event.js'
import {
  actionsLogins,
  cachesRestApi,
  detectForge,
  isValidLogin,
  runUrl,
  type Forge
} from '../src/action/github/forge.js'
import { marker } from '../src/action/conversation/report.js'
import { rebuildThread } from '../src/action/conversation/thread.js'
import { readRunner } from '../src/action/runner.js'
import { runUrlFromEnv } from '../src/action/github/tracking.js'
import { committerIdentity } from '../src/action/work/identity.js'
import { KugetsuError } from '../src/errors.js'

describe('detectForge', () => {
  it.each<[string, NodeJS.ProcessEnv, Forge]>([
    ['github.com by default', {}, 'github'],
    ['github.com', { GITHUB_SERVER_URL: 'https://github.com' }, 'github'],
    ['a ghe.com data-residency instance', { GITHUB_SERVER_URL: 'https://acme.ghe.com' }, 'github'],
    ['any other server', { GITHUB_SERVER_URL: 'https://ghes.example.test:8443' }, 'ghes'],
    ['Gitea', { GITEA_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://gitea.example.test' }, 'gitea'],
    [
      'Forgejo (which also sets GITEA_ACTIONS)',
      { GITEA_ACTIONS: 'true', FORGEJO_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://codeberg.org' },
      'forgejo'
    ],
    [
      'only "true" counts',
      { GITEA_ACTIONS: '1', GITHUB_SERVER_URL: 'https://github.com' },
      'github'
    ],
    ['an unparsable server URL', { GITHUB_SERVER_URL: 'not a url' }, 'github']
  ])('%s', (_name, env, forge) => {
    expect(detectForge(env)).toBe(forge)
  })

  it('is read once with the other runner variables', () => {
    const runner = readRunner({
      GITEA_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://gitea.example.test',
      GITHUB_RUN_NUMBER: '12',
      GITHUB_RUN_ID: '345'
    })
    expect(runner).toMatchObject({ forge: 'gitea', runNumber: '12', runId: '345' })
  })
})

describe('cachesRestApi', () => {
  it('is always on github.com, maybe on GHES (a 404 tells), never on Gitea or Forgejo', () => {
    const forges: Forge[] = ['github', 'ghes', 'gitea', 'forgejo']
    expect(forges.map(cachesRestApi)).toEqual(['always', 'maybe', 'none', 'none'])
  })
})

describe('logins by the forge’s rules', () => {
  it.each<[string, boolean, boolean]>([
    // login, valid on GitHub, valid on Gitea/Forgejo
    ['alice', true, true],
    ['jane.doe', false, true],
    ['jane_doe', false, true],
    ['a-b', true, true],
    ['dependabot[bot]', true, false],
    ['.hidden', false, false],
    ['trailing.', false, false],
    ['two..dots', false, false],
    ['a'.repeat(39), true, true],
    ['a'.repeat(40), false, true],
    ['a'.repeat(41), false, false],
    ['ünïcode', false, false],
    ['with space', false, false],
    ['', false, false]
  ])('%s', (login, github, gitea) => {
    expect(isValidLogin(login, 'github')).toBe(github)
    expect(isValidLogin(login, 'ghes')).toBe(github)
    expect(isValidLogin(login, 'gitea')).toBe(gitea)
    expect(isValidLogin(login, 'forgejo')).toBe(gitea)
  })

  it('allowed-users takes jane.doe on Gitea, and names the forge’s rule when it refuses', () => {
    expect(parseLoginList('jane.doe, bob', 'allowed-users', 'forgejo')).toEqual(['jane.doe', 'bob'])
    expect(() => parseLoginList('jane.doe', 'allowed-users')).toThrow(
      /allowed-users has an entry that is not a GitHub login: "jane\.doe" \(a login is 1-39/
    )
    expect(() => parseLoginList('jane..doe', 'allowed-users', 'gitea')).toThrow(
      /not a Gitea login: "jane\.\.doe" \(a login is 1-40 letters, digits, dots/
    )
  })

  it('a commenter whose login has a dot is judged on Gitea, refused as invalid on GitHub', async () => {
    const permissionOf = async () => ({ permission: 'write', via: 'permission' as const })
    const base = { login: 'jane.doe', userType: 'User', commentBody: '/kugetsu hi', permissionOf }
    expect(await authorize({ ...base, forge: 'gitea' })).toMatchObject({ allowed: true })
    expect(await authorize(base)).toMatchObject({
      allowed: false,
      rule: 'invalid-login',
      reason: 'the author "jane.doe" is not a valid GitHub login'
    })
  })
})

describe('run links', () => {
  const env = {
    GITHUB_SERVER_URL: 'https://gitea.example.test/',
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_RUN_ID: '345',
    GITHUB_RUN_NUMBER: '12',
    GITHUB_RUN_ATTEMPT: '2'
  }

  it('are by run number on Gitea and Forgejo, by id (and attempt) on GitHub', () => {
    expect(runUrlFromEnv({ ...env, GITEA_ACTIONS: 'true' })).toBe(
      'https://gitea.example.test/o/r/actions/runs/12'
    )
    expect(runUrlFromEnv({ ...env, GITEA_ACTIONS: 'true', FORGEJO_ACTIONS: 'true' })).toBe(
      'https://gitea.example.test/o/r/actions/runs/12'
    )
    expect(runUrlFromEnv(env)).toBe('https://gitea.example.test/o/r/actions/runs/345/attempts/2')
  })

  it('are empty without what they need', () => {
    expect(runUrl('gitea', { serverUrl: 'https://g.test', repository: 'o/r', runId: '1' })).toBe('')
    expect(runUrl('github', { serverUrl: 'https://g.test', repository: '' })).toBe('')
  })
})

describe('payloads', () => {
  const context = { host: 'gitea.example.test', owner: 'o', repo: 'r' }
  const inputs = { trigger: '/kugetsu', command: '', message: '', issueRef: '' }
  const comment = (extra: Record<string, unknown>) => ({
    action: 'created',
    issue: {
      number: 3,
      title: 't',
      body: '',
      html_url: 'h',
      user: { login: 'o' },
      pull_request: null
    },
    comment: { id: 9, body: '/kugetsu hi', html_url: 'c', user: { login: 'jane.doe', id: 4 } },
    ...extra
  })

  it('is_pull marks a comment on a pull request (Gitea, Forgejo)', () => {
    const pull = requestFromEvent('issue_comment', comment({ is_pull: true }), inputs, context)
    const issue = requestFromEvent('issue_comment', comment({ is_pull: false }), inputs, context)
    expect(pull).toMatchObject({ kind: 'turn', issue: { isPullRequest: true } })
    expect(issue).toMatchObject({ kind: 'turn', issue: { isPullRequest: false } })
  })

  it('Gitea’s owner access is admin', () => {
    expect(permissionFromResponse({ permission: 'owner', role_name: 'owner' })).toBe('admin')
  })
})

// ---------------------------------------------------------------------------------------------
// Who may trigger where the forge refuses the permission endpoint

function source(
  answer: PermissionAnswer,
  assignees: string[] | Error
): AccessSource & {
  listed: number
} {
  const counted = {
    listed: 0,
    permission: async () => answer,
    assignees: async () => {
      counted.listed += 1
      if (assignees instanceof Error) throw assignees
      return assignees
    }
  }
  return counted
}

const REFUSED: PermissionAnswer = {
  kind: 'refused',
  message:
    'Only admins can query all permissions, repo admins can query all repo permissions, collaborators can query only their own'
}

describe('findAccess: the decision table', () => {
  it.each<[string, PermissionAnswer, string[], Forge, { permission: string; via: string }, number]>(
    [
      [
        '200 answers',
        { kind: 'permission', permission: 'read' },
        ['jane.doe'],
        'gitea',
        { permission: 'read', via: 'permission' },
        0
      ],
      [
        '404 is none',
        { kind: 'not-found' },
        ['jane.doe'],
        'forgejo',
        { permission: 'none', via: 'permission' },
        0
      ],
      [
        '403 on Gitea: an assignee may write',
        REFUSED,
        ['bob', 'Jane.Doe'],
        'gitea',
        { permission: 'write', via: 'assignees' },
        1
      ],
      [
        '403 on Forgejo: not an assignee is none',
        REFUSED,
        ['bob'],
        'forgejo',
        { permission: 'none', via: 'assignees' },
        1
      ]
    ]
  )('%s', async (_name, answer, assignees, forge, expected, listed) => {
    const api = source(answer, assignees)
    expect(await findAccess('jane.doe', api, forge)).toEqual(expected)
    expect(api.listed).toBe(listed)
  })

  it('403 on GitHub or GHES is an error (no fallback: GitHub’s assignees are not its writers)', async () => {
    for (const forge of ['github', 'ghes'] as const) {
      const api = source(REFUSED, ['jane'])
      await expect(findAccess('jane', api, forge)).rejects.toThrow(KugetsuError)
      expect(api.listed).toBe(0)
    }
  })

  it('a failing assignees list is an error that says to use allowed-users', async () => {
    await expect(
      findAccess('jane', source(REFUSED, new Error('HTTP 500')), 'gitea')
    ).rejects.toThrow(
      /could not be listed either \(HTTP 500\); list who may trigger kugetsu in allowed-users/
    )
  })
})

describe('authorize with the assignees fallback', () => {
  const viaAssignees = (assignees: string[]) => (login: string) =>
    findAccess(login, source(REFUSED, assignees), 'gitea')
  const input = (overrides: Partial<AuthorizeInput>): AuthorizeInput => ({
    login: 'jane.doe',
    userType: 'User',
    commentBody: '/kugetsu hi',
    forge: 'gitea',
    permissionOf: viaAssignees(['jane.doe']),
    ...overrides
  })

  it('admits a writer', async () => {
    expect(await authorize(input({}))).toEqual({
      allowed: true,
      rule: 'permission',
      reason: 'jane.doe has write access (among the repository’s assignees; write needed)'
    })
  })

  it('refuses a stranger (and a read-only collaborator: not an assignee), saying what to configure', async () => {
    const result = await authorize(
      input({ login: 'mallory', permissionOf: viaAssignees(['jane.doe']) })
    )
    expect(result).toEqual({
      allowed: false,
      rule: 'permission',
      reason:
        'mallory is not among the users with write access to the repository (Gitea does not tell the job token anyone’s permission, only who may write (the repository’s assignees)); to let them trigger kugetsu, give them write access or list them in allowed-users'
    })
  })

  it('refuses everyone when min-permission is above write, which cannot be proved', async () => {
    for (const minPermission of ['maintain', 'admin'] as const) {
      const result = await authorize(input({ minPermission }))
      expect(result).toMatchObject({ allowed: false, rule: 'permission' })
      expect(result.reason).toMatch(
        /cannot be checked: .*allowed-users, or set min-permission to write$/
      )
    }
  })

  it('admits a writer when min-permission is below write; refuses a non-writer all the same', async () => {
    expect(await authorize(input({ minPermission: 'read' }))).toMatchObject({ allowed: true })
    expect(await authorize(input({ minPermission: 'read', login: 'reader' }))).toMatchObject({
      allowed: false
    })
  })

  it('allowed-users admits without any lookup', async () => {
    let looked = false
    const result = await authorize(
      input({
        login: 'outsider',
        allowedUsers: ['outsider'],
        permissionOf: async () => {
          looked = true
          throw new Error('no')
        }
      })
    )
    expect(result).toMatchObject({ allowed: true, rule: 'allowed-user' })
    expect(looked).toBe(false)
  })

  it('a failing fallback refuses (lookup-failed), never admits', async () => {
    const result = await authorize(
      input({
        permissionOf: (login) => findAccess(login, source(REFUSED, new Error('boom')), 'gitea')
      })
    )
    expect(result).toMatchObject({ allowed: false, rule: 'lookup-failed' })
  })
})

describe('committerIdentity', () => {
  it('is the Actions user on Gitea and Forgejo, with the address the API shows or a no-reply one', () => {
    expect(
      committerIdentity('gitea', 'gitea.example.test:3000', {
        login: 'gitea-actions',
        id: -2,
        email: 'teabot@gitea.io'
      })
    ).toEqual({ name: 'gitea-actions', email: 'teabot@gitea.io' })
    expect(committerIdentity('forgejo', 'codeberg.org:443', undefined)).toEqual({
      name: 'forgejo-actions',
      email: 'forgejo-actions@noreply.codeberg.org'
    })
    // An address that could break the header is not used.
    expect(
      committerIdentity('gitea', 'g.test', { login: 'gitea-actions', id: -2, email: 'a>\nb@c' })
    ).toEqual({ name: 'gitea-actions', email: 'gitea-actions@noreply.g.test' })
  })

  it('is unchanged on GitHub (no id+login address from a negative id there either)', () => {
    expect(committerIdentity('github', 'github.com', undefined).name).toBe('github-actions[bot]')
    expect(committerIdentity('ghes', 'ghe.test', { login: 'app[bot]', id: 7 })).toEqual({
      name: 'app[bot]',
      email: '7+app[bot]@users.noreply.ghe.test'
    })
  })
})

describe('kugetsu’s own comments on Gitea and Forgejo (no user type in their API)', () => {
  const reply = (author: string) => ({
    id: 1,
    author,
    body: `Earlier answer\n${marker({ session: 'ses_1', ref: 'g.test/o/r#1', turn: '1' })}`,
    createdAt: '2026-01-01T00:00:00Z'
  })
  const issue = { title: 't', body: '', author: 'jane.doe' }

  it.each<[Forge, string]>([
    ['gitea', 'gitea-actions'],
    ['forgejo', 'forgejo-actions']
  ])('on %s, a marked reply by %s is kugetsu’s', (forge, login) => {
    const thread = rebuildThread(issue, [reply(login)], createFrame(), {
      kugetsuLogins: actionsLogins(forge)
    })
    expect(thread.hadEarlierReplies).toBe(true)
  })

  it('a marker typed by a person is not kugetsu’s, on any forge', () => {
    for (const forge of ['gitea', 'forgejo', 'github'] as const) {
      const thread = rebuildThread(issue, [reply('mallory')], createFrame(), {
        kugetsuLogins: actionsLogins(forge)
      })
      expect(thread.hadEarlierReplies).toBe(false)
    }
    // Nor is the other forge's Actions user.
    const thread = rebuildThread(issue, [reply('gitea-actions')], createFrame(), {
      kugetsuLogins: actionsLogins('forgejo')
    })
    expect(thread.hadEarlierReplies).toBe(false)
  })
})
