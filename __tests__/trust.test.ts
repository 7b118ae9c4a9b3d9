import { describe, expect, it } from '@jest/globals'
import { createTrust } from '../src/action/conversation/trust.js'

const roles: Record<string, string | undefined> = { walt: 'write', rita: 'read', ada: 'admin' }

function lookup() {
  const calls: string[] = []
  const permissionOf = async (login: string) => {
    calls.push(login)
    if (login === 'flaky') throw new Error('HTTP 502')
    return roles[login]
  }
  return { calls, permissionOf }
}

describe('createTrust', () => {
  it('trusts people with at least min-permission, and no one else', async () => {
    const { permissionOf } = lookup()
    const trust = createTrust({ minPermission: 'write', permissionOf })
    await trust.lookUp(['walt', 'rita', 'ada', 'stranger', 'flaky'].map((login) => ({ login })))
    expect(['walt', 'rita', 'ada', 'stranger', 'flaky'].map(trust.of)).toEqual([
      true,
      false,
      true,
      false,
      false
    ])
    expect(trust.of('never-asked')).toBeUndefined()
  })

  it('looks each login up once a run (any case), the requester not at all', async () => {
    const { calls, permissionOf } = lookup()
    const trust = createTrust({ permissionOf, known: ['Alice'] })
    await trust.lookUp([{ login: 'walt' }, { login: 'WALT' }, { login: 'alice' }])
    await trust.lookUp([{ login: 'Walt' }])
    expect(calls).toEqual(['walt'])
    expect(trust.of('ALICE')).toBe(true)
  })

  it('bots are trusted only when listed; allowed-users are trusted whatever their role', async () => {
    const { calls, permissionOf } = lookup()
    const trust = createTrust({ permissionOf, allowedBots: ['helper'], allowedUsers: ['rita'] })
    await trust.lookUp([
      { login: 'helper[bot]', userType: 'Bot' },
      { login: 'spam[bot]', userType: 'Bot' },
      { login: 'rita' }
    ])
    expect([trust.of('helper[bot]'), trust.of('spam[bot]'), trust.of('rita')]).toEqual([
      true,
      false,
      true
    ])
    expect(calls).toEqual([])
  })

  it('stops looking up after the limit: the rest stay unknown (untrusted)', async () => {
    const { calls, permissionOf } = lookup()
    const trust = createTrust({ permissionOf, maxLookups: 2 })
    await trust.lookUp([{ login: 'walt' }, { login: 'rita' }, { login: 'ada' }])
    expect(calls).toEqual(['walt', 'rita'])
    expect(trust.of('ada')).toBeUndefined()
  })
})
