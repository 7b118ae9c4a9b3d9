import { describe, expect, it } from '@jest/globals'
import { KugetsuError } from '../src/errors.js'
import { marker } from '../src/action/conversation/report.js'
import {
  DEFAULT_MIN_PERMISSION,
  PERMISSIONS,
  authorize,
  isBot,
  parseLoginList,
  parseMinPermission,
  permissionFromResponse,
  type AuthorizeInput,
  type Permission
} from '../src/action/github/authorize.js'

/** A permission lookup over a fixed table that records who was looked up. */
function lookup(table: Record<string, string | undefined> = {}) {
  const calls: string[] = []
  const permissionOf = async (login: string) => {
    calls.push(login)
    return table[login.toLowerCase()]
  }
  return { calls, permissionOf }
}

function input(overrides: Partial<AuthorizeInput> = {}): AuthorizeInput {
  return {
    login: 'alice',
    userType: 'User',
    commentBody: '/kugetsu please fix it',
    permissionOf: lookup({ alice: 'write' }).permissionOf,
    ...overrides
  }
}

describe('authorize: the marker', () => {
  const kugetsuReply = `Done.\n\n/kugetsu next?\n${marker({ session: 'ses_1', ref: 'o/r#1', turn: '2' })}`

  it.each([
    ['kugetsu\u2019s own reply', kugetsuReply],
    ['a failure comment', marker({ ref: 'o/r#1', failed: 'true' })],
    ['a hand-written variant', '/kugetsu go <!--KUGETSU: x -->'],
    ['a spaced variant', '/kugetsu go <!--   kugetsu:x -->']
  ])('refuses %s, whoever posted it', async (_, body) => {
    const { calls, permissionOf } = lookup({ alice: 'admin' })
    for (const who of [
      { login: 'alice', userType: 'User', allowedUsers: ['alice'] },
      { login: 'github-actions[bot]', userType: 'Bot', allowedBots: ['github-actions'] }
    ]) {
      const result = await authorize(input({ ...who, commentBody: body, permissionOf }))
      expect(result).toMatchObject({ allowed: false, rule: 'marker' })
      expect(result.reason).toMatch(/marker/)
    }
    expect(calls).toEqual([])
  })

  it('does not mind a comment that only mentions kugetsu', async () => {
    const result = await authorize(
      input({ commentBody: '/kugetsu what is <!-- this -->? kugetsu:' })
    )
    expect(result.allowed).toBe(true)
  })

  it('applies no marker check to a manual run (no comment body)', async () => {
    const result = await authorize(input({ commentBody: undefined }))
    expect(result).toMatchObject({ allowed: true, rule: 'permission' })
  })
})

describe('authorize: bots', () => {
  it.each([
    ['type Bot', 'renovate', 'Bot'],
    ['a [bot] login', 'dependabot[bot]', 'User'],
    ['type bot in lower case', 'someapp', 'bot']
  ])('refuses %s that is not in allowed-bots, without a lookup', async (_, login, userType) => {
    const { calls, permissionOf } = lookup({ [login.toLowerCase()]: 'admin' })
    const result = await authorize(input({ login, userType, permissionOf, allowedBots: ['other'] }))
    expect(result).toMatchObject({ allowed: false, rule: 'bot' })
    expect(result.reason).toBe(`the bot ${login} is not in allowed-bots`)
    expect(calls).toEqual([])
  })

  it.each([
    ['dependabot[bot]', 'Bot', ['dependabot']],
    ['dependabot[bot]', 'Bot', ['dependabot[bot]']],
    ['Dependabot[bot]', 'Bot', ['DEPENDABOT']],
    ['renovate', 'Bot', ['Renovate[bot]']],
    ['my-app[bot]', 'Bot', ['x', '  my-app  ']]
  ])('admits %s (type %s) listed as %j', async (login, userType, allowedBots) => {
    const { calls, permissionOf } = lookup()
    const result = await authorize(input({ login, userType, allowedBots, permissionOf }))
    expect(result).toMatchObject({ allowed: true, rule: 'allowed-bot' })
    expect(calls).toEqual([])
  })

  it('does not let allowed-users admit a bot, and says where bots go', async () => {
    const result = await authorize(
      input({ login: 'helper[bot]', userType: 'Bot', allowedUsers: ['helper[bot]'] })
    )
    expect(result).toMatchObject({ allowed: false, rule: 'bot' })
    expect(result.reason).toContain('bots go in allowed-bots')
  })

  it('does not let a bot-typed account pass as a user of the same name', async () => {
    const result = await authorize(
      input({ login: 'alice', userType: 'Bot', allowedUsers: ['alice'], allowedBots: [] })
    )
    expect(result.allowed).toBe(false)
  })

  it('does not match a bot against a longer or shorter name', async () => {
    for (const allowedBots of [['dependabot-preview'], ['dependabo'], ['bot'], ['']]) {
      const result = await authorize(
        input({ login: 'dependabot[bot]', userType: 'Bot', allowedBots })
      )
      expect(result.allowed).toBe(false)
    }
  })

  it('isBot', () => {
    expect(isBot('a[bot]', 'User')).toBe(true)
    expect(isBot('a', 'Bot')).toBe(true)
    expect(isBot('robot', 'User')).toBe(false)
    expect(isBot('a[bot]x', 'User')).toBe(false)
  })
})

describe('authorize: allowed users', () => {
  it('admits a listed user whatever their permission, case-insensitively, without a lookup', async () => {
    const { calls, permissionOf } = lookup({ bob: undefined })
    const result = await authorize(
      input({ login: 'Bob', allowedUsers: ['carol', 'BOB'], permissionOf })
    )
    expect(result).toEqual({
      allowed: true,
      rule: 'allowed-user',
      reason: 'Bob is in allowed-users'
    })
    expect(calls).toEqual([])
  })

  it('does not admit by prefix or substring', async () => {
    for (const allowedUsers of [['bo'], ['bobby'], ['b*'], ['']]) {
      const result = await authorize(
        input({ login: 'bob', allowedUsers, permissionOf: lookup().permissionOf })
      )
      expect(result.allowed).toBe(false)
    }
  })
})

describe('authorize: permission', () => {
  const table: [string | undefined, Permission, boolean][] = []
  for (const has of [undefined, 'none', ...PERMISSIONS]) {
    for (const needed of PERMISSIONS) {
      const ok =
        has !== undefined &&
        has !== 'none' &&
        PERMISSIONS.indexOf(has as Permission) >= PERMISSIONS.indexOf(needed)
      table.push([has, needed, ok])
    }
  }

  it.each(table)('permission %s against min %s: allowed=%s', async (has, needed, ok) => {
    const result = await authorize(
      input({
        login: 'dave',
        minPermission: needed,
        permissionOf: lookup({ dave: has }).permissionOf
      })
    )
    expect(result.allowed).toBe(ok)
    expect(result.rule).toBe('permission')
  })

  it('defaults to write', async () => {
    expect(DEFAULT_MIN_PERMISSION).toBe('write')
    const triage = await authorize(
      input({ permissionOf: lookup({ alice: 'triage' }).permissionOf })
    )
    expect(triage.allowed).toBe(false)
    const write = await authorize(input({ permissionOf: lookup({ alice: 'write' }).permissionOf }))
    expect(write.allowed).toBe(true)
  })

  it('explains refusals in one short line', async () => {
    const reasons: string[] = []
    for (const has of [undefined, 'none', 'read', 'superuser\nwith a newline']) {
      const result = await authorize(input({ permissionOf: lookup({ alice: has }).permissionOf }))
      expect(result.allowed).toBe(false)
      reasons.push(result.reason)
    }
    expect(reasons).toEqual([
      'alice has no permission on the repository; write or higher is needed',
      'alice has no permission on the repository; write or higher is needed',
      'alice has only read permission; write or higher is needed',
      'alice has an unrecognised permission "superuser\\nwith a newline"; write or higher is needed'
    ])
    for (const reason of reasons) expect(reason).not.toContain('\n')
  })

  it('accepts permission names in any case and with spaces', async () => {
    const result = await authorize(
      input({ permissionOf: lookup({ alice: ' ADMIN ' }).permissionOf })
    )
    expect(result).toEqual({
      allowed: true,
      rule: 'permission',
      reason: 'alice has admin permission (write needed)'
    })
  })

  it('never ranks unknown strings, prototype names or numbers', async () => {
    for (const has of ['owner', 'toString', 'constructor', '__proto__', '5', 'push', 'pull']) {
      const result = await authorize(
        input({ minPermission: 'read', permissionOf: lookup({ alice: has }).permissionOf })
      )
      expect(result.allowed).toBe(false)
    }
  })

  it('refuses to run with an unknown minimum rather than admit everyone', async () => {
    for (const minPermission of ['none', 'owner', 'toString'] as unknown as Permission[]) {
      await expect(
        authorize(
          input({ minPermission, permissionOf: lookup({ alice: 'superuser' }).permissionOf })
        )
      ).rejects.toThrow(KugetsuError)
    }
    const result = await authorize(
      input({
        minPermission: 'ADMIN' as Permission,
        permissionOf: lookup({ alice: 'maintain' }).permissionOf
      })
    )
    expect(result.allowed).toBe(false)
  })

  it('fails closed when the lookup throws', async () => {
    const result = await authorize(
      input({
        permissionOf: async () => {
          throw new Error('HttpError: Resource not accessible by integration\nmore detail')
        }
      })
    )
    expect(result).toEqual({
      allowed: false,
      rule: 'lookup-failed',
      reason:
        'could not look up alice\u2019s permission on the repository (HttpError: Resource not accessible by integration)'
    })
  })

  it('looks up the trimmed login once', async () => {
    const { calls, permissionOf } = lookup({ alice: 'admin' })
    await authorize(input({ login: ' alice ', permissionOf }))
    expect(calls).toEqual(['alice'])
  })
})

describe('authorize: hostile logins', () => {
  it.each([
    '',
    'unknown user',
    '-alice',
    'a'.repeat(40),
    'alice\n',
    'alice\u200B',
    'ali/ce',
    '../admin',
    'alice[bot]extra',
    '@alice',
    'Evil[BOT]'
  ])('refuses %j before anything else', async (login) => {
    const { calls, permissionOf } = lookup({ alice: 'admin' })
    const result = await authorize(
      input({ login, permissionOf, allowedUsers: ['alice'], allowedBots: ['alice'] })
    )
    if (login.trim() === 'alice') {
      expect(result.allowed).toBe(true)
      return
    }
    expect(result).toMatchObject({ allowed: false, rule: 'invalid-login' })
    expect(result.reason).not.toContain('\n')
    expect(calls).toEqual([])
  })
})

describe('permissionFromResponse', () => {
  it.each([
    [{ permission: 'write', role_name: 'maintain' }, 'maintain'],
    [{ permission: 'read', role_name: 'triage' }, 'triage'],
    [{ permission: 'admin', role_name: 'admin' }, 'admin'],
    [{ permission: 'write', role_name: 'write' }, 'write'],
    [{ permission: 'write', role_name: 'security-reviewer' }, 'write'],
    [{ permission: 'read', role_name: 'Triage' }, 'triage'],
    [{ permission: 'write' }, 'write'],
    [{ permission: 'none', role_name: 'none' }, 'none'],
    [{ permission: 'superuser' }, 'none'],
    [{ permission: 7, role_name: ['admin'] }, 'none'],
    [{}, 'none'],
    [null, 'none'],
    [undefined, 'none'],
    ['admin', 'none']
  ])('%j gives %s', (data, expected) => {
    expect(permissionFromResponse(data)).toBe(expected)
  })
})

describe('parseLoginList', () => {
  it('splits on commas and newlines, trims, drops empties, @ and duplicates', () => {
    expect(parseLoginList(' alice, Bob\n\n carol ,\r\n@dave,,alice,BOB\n')).toEqual([
      'alice',
      'Bob',
      'carol',
      'dave'
    ])
  })

  it('accepts bot logins and legacy hyphens', () => {
    expect(parseLoginList('renovate[bot], my-app, a--b, x-')).toEqual([
      'renovate[bot]',
      'my-app',
      'a--b',
      'x-'
    ])
  })

  it('is empty for empty input', () => {
    expect(parseLoginList('')).toEqual([])
    expect(parseLoginList(' \n , \n')).toEqual([])
    expect(parseLoginList('@, @')).toEqual([])
  })

  it.each([
    [
      'alice bob',
      'allowed-users has an entry that is not a GitHub login: "alice bob" (separate logins with commas or newlines)'
    ],
    [
      'alice;bob',
      'allowed-users has an entry that is not a GitHub login: "alice;bob" (a login is 1-39 letters, digits or hyphens, optionally ending in [bot])'
    ],
    ['-alice', 'not a GitHub login: "-alice"'],
    ['a'.repeat(40), 'not a GitHub login'],
    ['*', 'not a GitHub login: "*"'],
    ['alice\u200B', 'not a GitHub login'],
    ['ok, evil\u202Eeman', 'not a GitHub login: "evil\\u202eeman"'],
    ['@@alice', 'not a GitHub login: "@alice"']
  ])('refuses %j', (text, message) => {
    let caught: unknown
    try {
      parseLoginList(text)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(KugetsuError)
    expect((caught as KugetsuError).code).toBe('invalid-input')
    expect((caught as KugetsuError).message).toContain(message)
    expect((caught as KugetsuError).message).not.toContain('\n')
  })

  it('names the input', () => {
    expect(() => parseLoginList('a b', 'allowed-bots')).toThrow(/^allowed-bots has an entry/)
  })
})

describe('parseMinPermission', () => {
  it.each([
    ['', 'write'],
    ['  ', 'write'],
    ['read', 'read'],
    ['Triage', 'triage'],
    [' WRITE ', 'write'],
    ['maintain', 'maintain'],
    ['admin', 'admin']
  ])('%j is %s', (text, expected) => {
    expect(parseMinPermission(text)).toBe(expected)
  })

  it.each(['none', 'push', 'owner', 'writ', 'read,write', 'toString'])('refuses %j', (text) => {
    expect(() => parseMinPermission(text)).toThrow(
      `min-permission must be one of read, triage, write, maintain, admin; got "${text}"`
    )
    expect(() => parseMinPermission(text)).toThrow(KugetsuError)
  })
})
